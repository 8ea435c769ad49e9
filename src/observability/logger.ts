import pino, { type Logger, type LoggerOptions } from 'pino';

// Exact paths only: wildcard paths make redaction walk every logged object, on every line. The gateway never
// logs headers, tokens or secrets on purpose; these catch a mistake in the places one would happen.
export const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["proxy-authorization"]',
  'res.headers["set-cookie"]',
  'headers.authorization',
  'headers.cookie',
  'err.config.headers.authorization',
  'access_token',
  'refresh_token',
  'clientSecret',
  'password',
  'token',
  'secret',
];

/**
 * pino's `time` field, ISO 8601 in UTC with milliseconds, as pino.stdTimeFunctions.isoTime writes it, but the
 * date and time up to the second are formatted once per second: a Date and its toISOString on every line cost
 * about 2 us of the request log's CPU at saturation (README, Benchmarks). `now` is injectable for tests.
 */
export function isoTimeField(now: () => number = Date.now): () => string {
  let second = Number.NaN;
  let prefix = '';
  return () => {
    const at = now();
    const atSecond = Math.floor(at / 1000);
    if (atSecond !== second) {
      second = atSecond;
      prefix = `,"time":"${new Date(atSecond * 1000).toISOString().slice(0, 20)}`; // up to "2026-11-26T06:57:11."
    }
    const ms = at - atSecond * 1000;
    return `${prefix}${ms < 10 ? '00' : ms < 100 ? '0' : ''}${ms}Z"`;
  };
}

/**
 * Logger options with redaction compiled once at start. Headers and any field that could carry a secret are
 * censored wherever they appear; the code also never logs token or secret values on purpose.
 */
export function loggerOptions(level: string): LoggerOptions {
  return {
    level,
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    base: { service: 'wallaroo-gateway' },
    timestamp: isoTimeField(),
    formatters: { level: (label) => ({ level: label }) },
  };
}

// Like Envoy's access log: lines are batched and flushed on an interval, so a busy gateway makes one write per
// few kilobytes rather than one per request, and a quiet one still shows each line within the interval. The
// batches are written synchronously (pino's default): sonic-boom's asynchronous mode sends every write through
// libuv's thread pool, which cost about 7 us of CPU per line against 2.5 us (README, Benchmarks).
const LOG_BATCH_BYTES = 4096;
const LOG_FLUSH_INTERVAL_MS = 100;

const flushedAtExit = new Set<{ flushSync(): void }>();

/** pino flushes only asynchronous destinations at exit by itself; the pending batch of a synchronous one here. */
function flushAtExit(stream: { flushSync(): void }): void {
  if (flushedAtExit.size === 0) {
    process.once('exit', () => {
      for (const pending of flushedAtExit) {
        try {
          pending.flushSync();
        } catch {
          // the stream was closed already
        }
      }
    });
  }
  flushedAtExit.add(stream);
}

/**
 * Standard output, batched (see above). Whatever is pending is written synchronously when the process exits,
 * so only a SIGKILL can lose lines, at most one interval's worth.
 */
export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  if (destination) return pino(loggerOptions(level), destination);
  const stdout = pino.destination({ dest: 1, sync: true, minLength: LOG_BATCH_BYTES });
  flushAtExit(stdout);
  setInterval(() => {
    try {
      stdout.flush();
    } catch {
      // the stream was closed at exit, after its last flush
    }
  }, LOG_FLUSH_INTERVAL_MS).unref();
  return pino(loggerOptions(level), stdout);
}
