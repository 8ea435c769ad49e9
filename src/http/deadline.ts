import { GatewayError } from '../errors.ts';

// Bounds for every wait on the request path: the caller-gone-or-deadline signal and the deadline itself, on
// the monotonic clock (performance.now() milliseconds). Rooms below proxy/ take a Bounds, never a request.

export interface Bounds {
  /** Aborted when the caller leaves or the deadline passes; its reason is a GatewayError. */
  readonly signal: AbortSignal;
  /** performance.now() milliseconds after which the request has failed. */
  readonly deadline: number;
}

/** Milliseconds left before `bounds.deadline` (never negative). */
export function remainingMs(bounds: Bounds, now: number = performance.now()): number {
  return Math.max(0, bounds.deadline - now);
}

/** The reason `bounds.signal` was aborted, as a GatewayError (anything else becomes a caller-gone error). */
export function abortReason(bounds: Bounds): GatewayError {
  const reason: unknown = bounds.signal.reason;
  return reason instanceof GatewayError ? reason : new GatewayError('GW_BAD_REQUEST', 'the caller closed the connection', { cause: reason });
}

/**
 * Waits for `promise`, but no longer than `bounds` allow: rejects with the abort reason as soon as the signal
 * fires, including when it fired before this call (an already-aborted signal never emits 'abort').
 */
export function within<T>(promise: Promise<T>, bounds: Bounds): Promise<T> {
  const { signal } = bounds;
  if (signal.aborted) {
    promise.catch(() => undefined); // the abandoned work may still fail; nobody waits for it
    return Promise.reject(abortReason(bounds));
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => {
      promise.catch(() => undefined);
      reject(abortReason(bounds));
    };
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}

/** Sleeps `ms`, cut short by the bounds' signal (rejecting with its reason). */
export function sleepWithin(ms: number, bounds: Bounds): Promise<void> {
  return within(new Promise<void>((resolve) => setTimeout(resolve, ms).unref()), bounds);
}
