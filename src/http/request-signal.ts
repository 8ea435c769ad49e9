// A per-request abort signal. Node's AbortController costs about 5 us to create and about 1 us per listener
// added and removed (README, Benchmarks); a request makes one and adds three or four listeners, and nearly every
// request ends without aborting. This signal keeps AbortSignal's contract as the request path and undici use it:
// `aborted`, `reason`, `onabort`, `throwIfAborted`, 'abort' listeners (functions or handleEvent objects, each
// added once, called once, never when added after the abort). Not an `instanceof AbortSignal`: where a real one
// is required (AbortSignal.any), make one from it.

type AbortListener = Parameters<EventTarget['addEventListener']>[1];

export class RequestSignal implements AbortSignal {
  aborted = false;
  reason: unknown = undefined;
  onabort: ((this: AbortSignal, event: Event) => unknown) | null = null;
  private listeners: AbortListener[] | null = null;

  throwIfAborted(): void {
    if (this.aborted) throw this.reason;
  }

  addEventListener(type: string, listener: AbortListener | null, _options?: Parameters<EventTarget['addEventListener']>[2]): void {
    if (type !== 'abort' || listener === null || this.aborted) return;
    if (this.listeners === null) this.listeners = [];
    if (!this.listeners.includes(listener)) this.listeners.push(listener);
  }

  removeEventListener(type: string, listener: AbortListener | null, _options?: Parameters<EventTarget['removeEventListener']>[2]): void {
    const { listeners } = this;
    if (type !== 'abort' || listener === null || !listeners) return;
    const at = listeners.indexOf(listener);
    if (at >= 0) listeners.splice(at, 1);
  }

  dispatchEvent(event: Event): boolean {
    if (event.type !== 'abort') return true;
    const listeners = this.listeners;
    this.listeners = null; // every abort listener runs once
    this.call(this.onabort, event);
    for (const listener of listeners ?? []) this.call(listener, event);
    return true;
  }

  /** Aborts with `reason` (once; later calls do nothing) and runs the listeners. */
  abort(reason: unknown): void {
    if (this.aborted) return;
    this.aborted = true;
    this.reason = reason;
    this.dispatchEvent(new Event('abort'));
  }

  private call(listener: AbortListener | ((this: AbortSignal, event: Event) => unknown) | null, event: Event): void {
    if (listener === null) return;
    try {
      if (typeof listener === 'function') listener.call(this, event);
      else listener.handleEvent(event);
    } catch (error) {
      // As EventTarget does: a throwing listener is reported as uncaught and does not stop the others.
      process.nextTick(() => {
        throw error;
      });
    }
  }
}
