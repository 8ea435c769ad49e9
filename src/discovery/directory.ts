import { LRUCache } from 'lru-cache';
import type { Logger } from 'pino';
import { type Dispatcher, request } from 'undici';
import { type TokenManager, withToken } from '../auth/index.ts';
import type { GatewayConfig, PipelineConfig } from '../config/types.ts';
import { GatewayError } from '../errors.ts';
import { type Bounds, boundsFor, within } from '../http/deadline.ts';
import { assertTrustedUrl } from './trust.ts';

// Finds each pipeline's external inference URL through Wallaroo's MLOps API (workspace name -> id with
// `workspaces/list`, then `admin/get_pipeline_external_url`) and caches it for `ttlSeconds` in an LRU.
// - Concurrent misses share one lookup (lru-cache's fetch), bounded by a timeout of its own; each caller waits
//   only within its own bounds, so a hanging MLOps API costs a caller its deadline (504), never more.
// - A failed lookup is remembered for `negativeTtlMs`: a burst of requests for a pipeline Wallaroo does not know
//   costs one MLOps call, not one each.
// - A URL that answers 404 is invalidated by value, so a burst of 404s triggers one rediscovery. When a refresh
//   fails after the TTL, the last known URL keeps serving (counted as `stale`).

export interface ResolvedPipeline {
  url: URL;
  discovered: boolean;
  resolvedAt: number;
}

export type DiscoveryResult = 'hit' | 'miss' | 'stale' | 'invalidated' | 'negative';

export interface DirectoryOptions {
  wallarooUrl: string;
  wallarooOrigin: string;
  pipelines: readonly PipelineConfig[];
  ttlSeconds: number;
  maxEntries: number;
  negativeTtlMs: number;
  /** Whether `tokens` is a user token (wallaroo.mlops) or the inference client's, for the refusal message. */
  userToken: boolean;
  tokens: TokenManager;
  dispatcher: Dispatcher;
  logger: Logger;
  onResult?: (result: DiscoveryResult) => void;
  /** One lookup's bound (every MLOps call it makes). */
  lookupTimeoutMs?: number;
  now?: () => number;
}

/** What `GET /pipelines` shows: host and age, and the last failure; never a token. */
export interface DiscoveryStatus {
  host: string | null;
  ageSeconds: number | null;
  lastError: { code: string; message: string; at: string } | null;
}

interface WorkspaceSummary {
  id: number;
  name: string;
}

const ERROR_TEXT_LIMIT = 200;

export class PipelineDirectory {
  private readonly cache: LRUCache<string, ResolvedPipeline, PipelineConfig>;
  private readonly explicit = new Map<string, ResolvedPipeline>();
  private readonly failures = new Map<string, { error: GatewayError; until: number; at: number }>();
  private readonly lastFailure = new Map<string, GatewayError>();
  private workspaces: { at: number; list: Promise<WorkspaceSummary[]> } | null = null;
  private readonly now: () => number;
  private readonly lookupTimeoutMs: number;

  constructor(private readonly options: DirectoryOptions) {
    this.now = options.now ?? Date.now;
    this.lookupTimeoutMs = options.lookupTimeoutMs ?? 10_000;
    // Explicit URLs are checked and parsed once, not per request.
    for (const pipeline of options.pipelines) {
      if (pipeline.url) this.explicit.set(pipeline.name, { url: assertTrustedUrl(pipeline.url, options.wallarooOrigin), discovered: false, resolvedAt: 0 });
    }
    this.cache = new LRUCache<string, ResolvedPipeline, PipelineConfig>({
      max: options.maxEntries,
      ttl: options.ttlSeconds * 1000,
      // An injected clock (tests) also times the entries; read on every check, not cached for a real millisecond.
      ...(options.now ? { perf: { now: options.now }, ttlResolution: 0 } : {}),
      allowStaleOnFetchRejection: true,
      noDeleteOnFetchRejection: true,
      noDeleteOnStaleGet: true, // the hot path's get() must not drop what a failed refresh falls back on
      fetchMethod: async (name, _stale, { context }) => {
        try {
          return await this.discover(context, boundsFor(this.lookupTimeoutMs));
        } catch (error) {
          this.rememberFailure(name, error);
          throw error;
        }
      },
    });
  }

  /** The pipeline's inference URL when known without waiting (explicit, or cached and fresh), else null. */
  known(pipeline: PipelineConfig): ResolvedPipeline | null {
    const explicit = this.explicit.get(pipeline.name);
    if (explicit) return explicit;
    const cached = this.cache.get(pipeline.name, { allowStale: false });
    if (!cached) return null;
    this.options.onResult?.('hit');
    return cached;
  }

  /** The pipeline's inference URL: explicit, cached, or looked up (waiting no longer than `bounds`). */
  resolve(pipeline: PipelineConfig, bounds: Bounds): Promise<ResolvedPipeline> {
    const known = this.known(pipeline);
    if (known) return Promise.resolve(known);
    const failure = this.failures.get(pipeline.name);
    if (failure && this.now() < failure.until) {
      this.options.onResult?.('negative');
      return Promise.reject(failure.error);
    }
    return within(this.lookUp(pipeline), bounds, () =>
      new GatewayError('GW_DISCOVERY_TIMEOUT', `pipeline ${pipeline.name}: the MLOps API did not give its inference URL within the pipeline timeout (${pipeline.timeoutMs} ms)`),
    );
  }

  /** Forget `url` for `name` if it is still the cached one; returns whether it was. */
  invalidate(name: string, url: URL): boolean {
    const cached = this.cache.peek(name, { allowStale: true });
    if (!cached || cached.url.href !== url.href) return false;
    this.cache.delete(name);
    this.options.onResult?.('invalidated');
    this.options.logger.info({ pipeline: name }, 'inference URL invalidated; rediscovering');
    return true;
  }

  describe(name: string): DiscoveryStatus {
    const failure = this.failures.get(name);
    const lastError = failure ? { code: failure.error.code, message: failure.error.message, at: new Date(failure.at).toISOString() } : null;
    const resolved = this.explicit.get(name) ?? this.cache.peek(name, { allowStale: true });
    if (!resolved) return { host: null, ageSeconds: null, lastError };
    const ageSeconds = resolved.discovered ? Math.max(0, Math.floor((this.now() - resolved.resolvedAt) / 1000)) : null;
    return { host: resolved.url.host, ageSeconds, lastError };
  }

  private async lookUp(pipeline: PipelineConfig): Promise<ResolvedPipeline> {
    const status: LRUCache.Status<string, ResolvedPipeline, PipelineConfig> = {};
    const resolved = await this.cache.fetch(pipeline.name, { context: pipeline, status });
    this.options.onResult?.(status.returnedStale ? 'stale' : status.fetch === 'hit' ? 'hit' : 'miss');
    if (resolved) return resolved;
    // lru-cache resolves undefined (not a rejection) when the lookup failed and nothing stale was kept; every
    // caller that joined the lookup gets the failure it remembered.
    throw this.lastFailure.get(pipeline.name) ?? new GatewayError('GW_DISCOVERY_FAILED', `pipeline ${pipeline.name}: no inference URL`);
  }

  private rememberFailure(name: string, cause: unknown): void {
    const error = cause instanceof GatewayError ? cause : new GatewayError('GW_DISCOVERY_FAILED', `pipeline ${name}: no inference URL`, { cause });
    this.lastFailure.set(name, error);
    // The token manager has its own backoff; every other failure is remembered briefly.
    if (error.code === 'GW_TOKEN_UNAVAILABLE') return;
    const now = this.now();
    this.failures.set(name, { error, until: now + this.options.negativeTtlMs, at: now });
  }

  private async discover(pipeline: PipelineConfig, bounds: Bounds): Promise<ResolvedPipeline> {
    const workspaceId = await this.workspaceId(pipeline, bounds);
    const answer = await this.mlops<{ url?: unknown }>('/admin/get_pipeline_external_url', { workspace_id: workspaceId, pipeline_name: pipeline.pipeline }, bounds);
    if (typeof answer.url !== 'string') {
      throw new GatewayError('GW_DISCOVERY_FAILED', `get_pipeline_external_url gave no url for pipeline ${pipeline.pipeline}`);
    }
    const url = assertTrustedUrl(answer.url, this.options.wallarooOrigin);
    this.failures.delete(pipeline.name);
    this.options.logger.info({ pipeline: pipeline.name, host: url.host, path: url.pathname }, 'inference URL discovered');
    return { url, discovered: true, resolvedAt: this.now() };
  }

  private async workspaceId(pipeline: PipelineConfig, bounds: Bounds): Promise<number> {
    const wanted = pipeline.workspace;
    if (typeof wanted === 'number') return wanted;
    if (wanted === null) throw new GatewayError('GW_DISCOVERY_FAILED', `pipeline ${pipeline.name} has no workspace`);
    const fresh = this.workspaces && this.now() - this.workspaces.at < this.options.ttlSeconds * 1000;
    if (!fresh) {
      const list = this.mlops<{ workspaces?: unknown }>('/workspaces/list', {}, bounds).then((answer) => {
        if (!Array.isArray(answer.workspaces)) throw new GatewayError('GW_DISCOVERY_FAILED', 'workspaces/list gave no workspaces');
        return (answer.workspaces as Array<Record<string, unknown>>)
          .filter((w) => typeof w.id === 'number' && typeof w.name === 'string')
          .map((w) => ({ id: w.id as number, name: w.name as string }));
      });
      this.workspaces = { at: this.now(), list };
      list.catch(() => {
        if (this.workspaces?.list === list) this.workspaces = null;
      });
    }
    const found = (await this.workspaces!.list).find((w) => w.name === wanted);
    if (!found) {
      this.workspaces = null; // it may be created soon; look again next time
      throw new GatewayError('GW_DISCOVERY_FAILED', `workspace "${wanted}" not found for pipeline ${pipeline.name}`);
    }
    return found.id;
  }

  /** One MLOps API call under the shared 401 policy; a refusal says which credentials discovery needs. */
  private async mlops<T>(command: string, body: unknown, bounds: Bounds): Promise<T> {
    const url = `${this.options.wallarooUrl}/v1/api${command}`;
    const payload = JSON.stringify(body);
    let answer: { status: number; text: string };
    try {
      answer = await withToken(this.options.tokens, bounds, {
        subject: `MLOps API ${command}`,
        send: async (token) => {
          try {
            const response = await request(url, {
              method: 'POST',
              headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', accept: 'application/json' },
              body: payload,
              dispatcher: this.options.dispatcher,
              signal: bounds.signal,
            });
            return { status: response.statusCode, text: await response.body.text() };
          } catch (error) {
            // Its own bound (discovery.timeoutMs) passed: a timeout, as when the caller's deadline passes first.
            if (bounds.signal.aborted) throw new GatewayError('GW_DISCOVERY_TIMEOUT', `MLOps API ${command} gave no answer within ${this.lookupTimeoutMs} ms`, { cause: error });
            throw new GatewayError('GW_DISCOVERY_FAILED', `MLOps API ${command} unreachable (${(error as { code?: string }).code ?? 'error'})`, { cause: error });
          }
        },
        refused: (result) => result.status === 401,
        discard: async () => undefined,
        canReplay: () => true,
      });
    } catch (error) {
      if (error instanceof GatewayError && error.code === 'GW_UPSTREAM_UNAUTHORIZED') throw this.refusal(command, 401, '');
      throw error;
    }
    if (answer.status === 403 || answer.status === 401) throw this.refusal(command, answer.status, answer.text);
    if (answer.status < 200 || answer.status >= 300) {
      // A refusal's reason helps the operator (a workspace or pipeline not found); a server error's text is internal.
      throw new GatewayError('GW_DISCOVERY_FAILED', `MLOps API ${command} answered ${answer.status}${answer.status < 500 ? errorText(answer.text) : ''}`);
    }
    try {
      return JSON.parse(answer.text) as T;
    } catch {
      throw new GatewayError('GW_DISCOVERY_FAILED', `MLOps API ${command} answered something that is not JSON`);
    }
  }

  private refusal(command: string, status: number, text: string): GatewayError {
    const advice = this.options.userToken
      ? 'check the MLOps user (wallaroo.mlops) and its permissions in the workspace'
      : 'discovery needs MLOps user credentials (wallaroo.mlops) or an explicit url per pipeline';
    return new GatewayError('GW_DISCOVERY_FAILED', `MLOps API ${command} refused the gateway's ${this.options.userToken ? 'user' : 'client-credentials'} token (${status}${errorText(text)}): ${advice}`);
  }
}

/** Wallaroo's own error text, short and printable, for a message that reaches callers and logs. */
function errorText(body: string): string {
  let text = '';
  try {
    const parsed = JSON.parse(body) as { error?: unknown; msg?: unknown; message?: unknown };
    const field = parsed.error ?? parsed.msg ?? parsed.message;
    if (typeof field === 'string') text = field;
  } catch {
    // not JSON (an HTML error page, a proxy's text): not echoed
  }
  const printable = text.replace(/[^\x20-\x7e]+/g, ' ').trim().slice(0, ERROR_TEXT_LIMIT);
  return printable ? `: ${printable}` : '';
}

/** The directory for a validated config: discovery settings, the MLOps token and the control-plane pool. */
export function createDirectory(config: GatewayConfig, tokens: TokenManager, dispatcher: Dispatcher, logger: Logger, onResult: (result: DiscoveryResult) => void, now?: () => number): PipelineDirectory {
  return new PipelineDirectory({
    wallarooUrl: config.wallaroo.url,
    wallarooOrigin: config.wallaroo.origin,
    pipelines: config.pipelines,
    ttlSeconds: config.discovery.ttlSeconds,
    maxEntries: config.discovery.maxEntries,
    negativeTtlMs: config.discovery.negativeTtlSeconds * 1000,
    lookupTimeoutMs: config.discovery.timeoutMs,
    userToken: config.wallaroo.mlops !== null,
    tokens,
    dispatcher,
    logger,
    onResult,
    ...(now ? { now } : {}),
  });
}
