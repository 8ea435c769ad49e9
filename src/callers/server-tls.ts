import { type FSWatcher, readFileSync, watch } from 'node:fs';
import { readFile } from 'node:fs/promises';
import type { ServerResponse } from 'node:http';
import type { Server } from 'node:net';
import { dirname } from 'node:path';
import { createSecureContext, type SecureContextOptions, Server as TlsServer, type TLSSocket, type TlsOptions } from 'node:tls';
import type { Logger } from 'pino';

// The gateway's own TLS: certificate and key (and, for mTLS, the CA client certificates must chain to) read from
// files and re-read when they change. Kubernetes updates a mounted Secret by swapping a symlink in its directory,
// so the directories are watched, not the files; a slow poll backs the watch up (some filesystems send no events).
// A half-written or mismatched pair is refused and the previous context kept.

export interface ServerTlsFiles {
  certFile: string;
  keyFile: string;
  /** The CA client certificates must chain to (mTLS); null: no client certificates asked for. */
  clientCaFile: string | null;
}

/**
 * Which client CA a connection's certificate was checked against: a number that grows each time the CA file
 * changes. A connection checked under an older one is no longer trusted (revoking by rotating the CA must reach
 * keep-alive connections too).
 */
export interface ClientCaGenerations {
  /** The generation of the CA in use now. */
  readonly latest: number;
  /** The generation a connection's handshake was checked under; undefined for one never seen. */
  of(socket: object): number | undefined;
}

const POLL_MS = 60_000;
const SETTLE_MS = 100;

function contextOptions(read: (file: string) => string, files: ServerTlsFiles): SecureContextOptions {
  return { cert: read(files.certFile), key: read(files.keyFile), ...(files.clientCaFile ? { ca: read(files.clientCaFile) } : {}) };
}

/** https.createServer options: the files' current contents, and client certificates requested for mTLS. */
export function serverTlsOptions(files: ServerTlsFiles): TlsOptions {
  const options = contextOptions((file) => readFileSync(file, 'utf8'), files);
  createSecureContext(options); // a bad certificate or key fails here, at start, with OpenSSL's reason
  return {
    ...options,
    minVersion: 'TLSv1.2',
    // Asked for, checked against the CA, but a connection without one is not cut: the request gets a coded 401.
    requestCert: files.clientCaFile !== null,
    rejectUnauthorized: false,
  };
}

export class ServerTlsReloader implements ClientCaGenerations {
  private watchers: FSWatcher[] = [];
  private generation = 0;
  private clientCa: string | undefined;
  /** Each open TLS connection, with the generation its handshake was checked under. */
  private readonly connections = new Map<TLSSocket, number>();
  private poll: NodeJS.Timeout | null = null;
  private settle: NodeJS.Timeout | null = null;
  private current = '';
  /** Contents already refused, so a poll does not log the same problem every minute. */
  private refused = '';
  private reloading = false;
  private again = false;

  constructor(
    private readonly files: ServerTlsFiles,
    private readonly logger: Logger,
  ) {}

  get latest(): number {
    return this.generation;
  }

  of(socket: object): number | undefined {
    return this.connections.get(socket as TLSSocket);
  }

  /** Watches the files' directories and applies changes to `server` (a TLS server; anything else is left alone). */
  start(server: Server): void {
    if (!(server instanceof TlsServer)) return;
    const files = [this.files.certFile, this.files.keyFile, this.files.clientCaFile].filter((f): f is string => f !== null);
    const initial = contextOptions((file) => readFileSync(file, 'utf8'), this.files);
    this.current = JSON.stringify(initial);
    this.clientCa = initial.ca as string | undefined;
    server.on('secureConnection', (socket: TLSSocket) => {
      this.connections.set(socket, this.generation);
      socket.once('close', () => this.connections.delete(socket));
    });
    for (const dir of new Set(files.map((f) => dirname(f)))) {
      try {
        const watcher = watch(dir, { persistent: false }, () => this.schedule(server));
        watcher.on('error', (error) => this.logger.warn({ dir, reason: error.message }, 'TLS file watch failed; polling instead'));
        this.watchers.push(watcher);
      } catch (error) {
        this.logger.warn({ dir, reason: (error as Error).message }, 'cannot watch the TLS files; polling instead');
      }
    }
    this.poll = setInterval(() => this.schedule(server), POLL_MS).unref();
  }

  close(): void {
    for (const watcher of this.watchers) watcher.close();
    this.watchers = [];
    if (this.poll) clearInterval(this.poll);
    if (this.settle) clearTimeout(this.settle);
    this.poll = this.settle = null;
  }

  /**
   * Closes the connections whose client certificate was checked under an older CA: at once when idle, else when
   * their answer has gone out (a request that slips in first is refused by ClientCertificateIdentification).
   * Their clients reconnect and are checked against the new CA.
   */
  private retireConnections(): number {
    let retired = 0;
    for (const [socket, generation] of this.connections) {
      if (generation === this.generation) continue;
      retired++;
      const response = (socket as TLSSocket & { _httpMessage?: ServerResponse | null })._httpMessage;
      if (!response || response.writableFinished) socket.end();
      else response.once('close', () => socket.end());
    }
    return retired;
  }

  /** A swap makes several events at once: wait for them to settle, then read once. */
  private schedule(server: TlsServer): void {
    if (this.settle) clearTimeout(this.settle);
    this.settle = setTimeout(() => {
      this.settle = null;
      void this.reload(server);
    }, SETTLE_MS);
    this.settle.unref();
  }

  private async reload(server: TlsServer): Promise<void> {
    if (this.reloading) {
      this.again = true;
      return;
    }
    this.reloading = true;
    let serialised = '';
    try {
      const [cert, key, ca] = await Promise.all([
        readFile(this.files.certFile, 'utf8'),
        readFile(this.files.keyFile, 'utf8'),
        this.files.clientCaFile ? readFile(this.files.clientCaFile, 'utf8') : Promise.resolve(null),
      ]);
      const options: SecureContextOptions = { cert, key, ...(ca !== null ? { ca } : {}) };
      serialised = JSON.stringify(options);
      if (serialised === this.current || serialised === this.refused) return;
      createSecureContext(options); // throws on a mismatched pair or a half-written file: keep the old one
      server.setSecureContext(options);
      this.current = serialised;
      this.logger.info({ certFile: this.files.certFile }, 'TLS certificate reloaded');
      if ((ca ?? undefined) !== this.clientCa) {
        this.clientCa = ca ?? undefined;
        this.generation++;
        const retired = this.retireConnections();
        this.logger.info({ caFile: this.files.clientCaFile, connections: retired }, 'client CA changed: connections checked under the previous one are closed');
      }
    } catch (error) {
      this.refused = serialised;
      this.logger.warn({ certFile: this.files.certFile, reason: (error as Error).message }, 'TLS files changed but cannot be used; keeping the previous certificate');
    } finally {
      this.reloading = false;
      if (this.again) {
        this.again = false;
        this.schedule(server);
      }
    }
  }
}
