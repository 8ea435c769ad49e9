import { GatewayError } from '../errors.ts';

// Bounds for every wait on the request path: a signal aborted when the caller leaves or the deadline passes,
// and the deadline itself on the monotonic clock (performance.now() milliseconds). Rooms below proxy/ take a
// Bounds, never a request, so each can be tested alone with a deadline of its own.

export interface Bounds {
  /** Aborted when the caller leaves or the deadline passes; its reason is a GatewayError (see below). */
  readonly signal: AbortSignal;
  /** performance.now() milliseconds after which waiting is pointless. */
  readonly deadline: number;
}

/** The abort reason when the caller went away: nothing Wallaroo or the gateway did. */
export function callerGone(cause?: unknown): GatewayError {
  return new GatewayError('GW_CALLER_GONE', 'the caller closed the connection', cause === undefined ? undefined : { cause });
}

/** The abort reason when the deadline passed; each phase that was waiting names its own failure instead. */
export function deadlinePassed(limitMs: number): GatewayError {
  return new GatewayError('GW_UPSTREAM_TIMEOUT', `no answer within the pipeline timeout (${limitMs} ms)`);
}

export function isCallerGone(error: unknown): boolean {
  return error instanceof GatewayError && error.code === 'GW_CALLER_GONE';
}

/** The abort reason when the gateway shut down with the request in flight (server.shutdownGraceMs ran out). */
export function shutDown(graceMs: number): GatewayError {
  return new GatewayError('GW_SHUTDOWN', `the gateway shut down with the request in flight (server.shutdownGraceMs ${graceMs} ms ran out)`);
}

/** A reason that is no phase's failure, passed through as is: the caller left, or the gateway shut down. */
export function endedOutright(reason: unknown): reason is GatewayError {
  return reason instanceof GatewayError && (reason.code === 'GW_CALLER_GONE' || reason.code === 'GW_SHUTDOWN');
}

/** Milliseconds left before `bounds.deadline` (never negative). */
export function remainingMs(bounds: Bounds, now: number = performance.now()): number {
  return Math.max(0, bounds.deadline - now);
}

/** Bounds of their own, for work no single request owns (a shared lookup): a timeout and no caller. */
export function boundsFor(timeoutMs: number): Bounds {
  return { signal: AbortSignal.timeout(timeoutMs), deadline: performance.now() + timeoutMs };
}

/**
 * Why `bounds` ended: the caller leaving (or the gateway shutting down) passes through as is; a passed deadline
 * becomes the waiting phase's own error (`onDeadline`), so a caller waiting for a token hears about the token, not
 * about Wallaroo.
 */
export function endedBecause(bounds: Bounds, onDeadline?: () => GatewayError): GatewayError {
  const reason: unknown = bounds.signal.reason;
  if (endedOutright(reason)) return reason;
  if (onDeadline) return onDeadline();
  return reason instanceof GatewayError ? reason : deadlinePassed(Math.round(remainingMs(bounds)));
}

/**
 * Waits for `promise`, no longer than `bounds` allow: rejects as soon as the signal fires, including when it
 * fired before this call (a listener added to an already-aborted signal never runs).
 */
export function within<T>(promise: Promise<T>, bounds: Bounds, onDeadline?: () => GatewayError): Promise<T> {
  const { signal } = bounds;
  if (signal.aborted) {
    promise.catch(() => undefined); // the abandoned work may still fail; nobody is waiting for it
    return Promise.reject(endedBecause(bounds, onDeadline));
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => {
      promise.catch(() => undefined);
      reject(endedBecause(bounds, onDeadline));
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

/** Sleeps `ms`, cut short by the bounds' signal (rejecting as `within` does); the timer never outlives it. */
export function sleepWithin(ms: number, bounds: Bounds, onDeadline?: () => GatewayError): Promise<void> {
  const { signal } = bounds;
  if (signal.aborted) return Promise.reject(endedBecause(bounds, onDeadline));
  return new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(endedBecause(bounds, onDeadline));
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
