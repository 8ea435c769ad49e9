import pino, { type Logger, type LoggerOptions } from 'pino';

/**
 * Logger options with redaction compiled once at start. Headers and any field that could carry a secret are
 * censored wherever they appear; the code also never logs token or secret values on purpose.
 */
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

export function loggerOptions(level: string): LoggerOptions {
  return {
    level,
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    base: { service: 'wallaroo-gateway' },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
  };
}

export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return destination ? pino(loggerOptions(level), destination) : pino(loggerOptions(level));
}
