import { ConfigError } from '../config/load.ts';
import { configErrorMessage } from './config-file.ts';

// What `serve` and `demo` print when the gateway cannot start: one clear line naming the cause (or the config's
// problems, one per line), never a stack trace.

const LISTEN_REASONS: Record<string, string> = {
  EADDRINUSE: 'the port is already in use',
  EACCES: 'permission denied (ports below 1024 need privileges)',
  EADDRNOTAVAIL: 'no such address on this machine',
  ENOTFOUND: 'the host name does not resolve',
};

/** A listener that could not bind, with the config key that chose its address. */
export class ListenError extends Error {
  constructor(listener: 'server' | 'metrics', host: string, port: number, cause: NodeJS.ErrnoException) {
    const what = listener === 'server' ? 'traffic (server.host, server.port or PORT)' : 'metrics and probes (metrics.host, metrics.port)';
    const reason = (cause.code && LISTEN_REASONS[cause.code]) ?? cause.message;
    super(`cannot listen on ${host}:${port} for ${what}: ${reason}${cause.code ? ` (${cause.code})` : ''}`, { cause });
    this.name = 'ListenError';
  }
}

export function startFailureMessage(error: unknown): string {
  if (error instanceof ConfigError) return configErrorMessage(error);
  if (error instanceof ListenError) return `wallaroo-gateway: ${error.message}`;
  const { code, path } = error as NodeJS.ErrnoException;
  if (code && path) return `wallaroo-gateway: cannot read ${path} (${code})`;
  const message = error instanceof Error ? error.message : String(error);
  return `wallaroo-gateway: failed to start: ${message.split('\n')[0]}`;
}
