import { LRUCache } from 'lru-cache';
import type { Logger } from 'pino';
import { type Dispatcher, request } from 'undici';
import type { PipelineConfig } from '../config/types.ts';
import { GatewayError } from '../errors.ts';
import type { TokenManager } from '../auth/token-manager.ts';
import { assertTrustedUrl } from './trust.ts';

/**
 * Finds each pipeline's external inference URL through Wallaroo's MLOps API (workspace name -> id with
 * `workspaces/list`, then `admin/get_pipeline_external_url`) and caches it for `ttlSeconds` in an LRU.
 * Concurrent misses share one lookup (lru-cache's fetch). A URL that answers 404 (the pipeline was
 * redeployed) is invalidated by value, so a burst of 404s triggers one rediscovery. When a refresh fails
 * after the TTL, the last known URL keeps serving (counted as `stale`).
 */
export interface ResolvedPipeline {
  url: URL;
  discovered: boolean;
  resolvedAt: number;
}

export type DiscoveryResult = 'hit' | 'miss' | 'stale' | 'invalidated';

export interface DirectoryOptions {
  wallarooUrl: string;
  wallarooOrigin: string;
  ttlSeconds: number;
  maxEntries: number;
  tokens: TokenManager;
  dispatcher: Dispatcher;
  logger: Logger;
  onResult?: (result: DiscoveryResult) => void;
  requestTimeoutMs?: number;
  now?: () => number;
}

interface WorkspaceSummary {
  id: number;
  name: string;
}

export class PipelineDirectory {
  private readonly cache: LRUCache<string, ResolvedPipeline, PipelineConfig>;
  private workspaces: { at: number; list: Promise<WorkspaceSummary[]> } | null = null;
  private readonly now: () => number;

  constructor(private readonly options: DirectoryOptions) {
    this.now = options.now ?? Date.now;
    this.cache = new LRUCache<string, ResolvedPipeline, PipelineConfig>({
      max: options.maxEntries,
      ttl: options.ttlSeconds * 1000,
      allowStaleOnFetchRejection: true,
      noDeleteOnFetchRejection: true,
      fetchMethod: async (_name, _stale, { context }) => this.discover(context),
    });
  }

  async resolve(pipeline: PipelineConfig): Promise<ResolvedPipeline> {
    if (pipeline.url) {
      return { url: assertTrustedUrl(pipeline.url, this.options.wallarooOrigin), discovered: false, resolvedAt: 0 };
    }
    const status: LRUCache.Status<string, ResolvedPipeline, PipelineConfig> = {};
    const resolved = await this.cache.fetch(pipeline.name, { context: pipeline, status });
    this.options.onResult?.(status.returnedStale ? 'stale' : status.fetch === 'hit' ? 'hit' : 'miss');
    if (!resolved) {
      // lru-cache resolves undefined (not a rejection) when the lookup failed and nothing stale was kept.
      const cause = status.fetchError;
      throw cause instanceof GatewayError ? cause : new GatewayError('GW_DISCOVERY_FAILED', `pipeline ${pipeline.name}: no inference URL`, { cause });
    }
    return resolved;
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

  /** What `GET /pipelines` shows: host and age, never a token. */
  describe(name: string): { host: string; ageSeconds: number } | null {
    const cached = this.cache.peek(name, { allowStale: true });
    if (!cached) return null;
    return { host: cached.url.host, ageSeconds: Math.max(0, Math.round((this.now() - cached.resolvedAt) / 1000)) };
  }

  clear(): void {
    this.cache.clear();
    this.workspaces = null;
  }

  private async discover(pipeline: PipelineConfig): Promise<ResolvedPipeline> {
    const workspaceId = await this.workspaceId(pipeline);
    const answer = await this.mlops<{ url?: unknown }>('/admin/get_pipeline_external_url', {
      workspace_id: workspaceId,
      pipeline_name: pipeline.pipeline,
    });
    if (typeof answer.url !== 'string') {
      throw new GatewayError('GW_DISCOVERY_FAILED', `get_pipeline_external_url gave no url for pipeline ${pipeline.pipeline}`);
    }
    const url = assertTrustedUrl(answer.url, this.options.wallarooOrigin);
    this.options.logger.info({ pipeline: pipeline.name, host: url.host, path: url.pathname }, 'inference URL discovered');
    return { url, discovered: true, resolvedAt: this.now() };
  }

  private async workspaceId(pipeline: PipelineConfig): Promise<number> {
    const wanted = pipeline.workspace;
    if (typeof wanted === 'number') return wanted;
    if (wanted === null) throw new GatewayError('GW_DISCOVERY_FAILED', `pipeline ${pipeline.name} has no workspace`);
    const fresh = this.workspaces && this.now() - this.workspaces.at < this.options.ttlSeconds * 1000;
    if (!fresh) {
      const list = this.mlops<{ workspaces?: unknown }>('/workspaces/list', {}).then((answer) => {
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

  /** One MLOps API call; a 401 replaces the token and retries (see UpstreamClient: at most twice, never a loop). */
  private async mlops<T>(command: string, body: unknown): Promise<T> {
    const timeout = this.options.requestTimeoutMs ?? 10_000;
    let token = await this.options.tokens.current();
    let tokenIsFresh = false;
    for (let attempt = 0; ; attempt++) {
      let response: Dispatcher.ResponseData;
      try {
        response = await request(`${this.options.wallarooUrl}/v1/api${command}`, {
          method: 'POST',
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', accept: 'application/json' },
          body: JSON.stringify(body),
          dispatcher: this.options.dispatcher,
          headersTimeout: timeout,
          bodyTimeout: timeout,
        });
      } catch (error) {
        throw new GatewayError('GW_DISCOVERY_FAILED', `MLOps API ${command} unreachable (${(error as { code?: string }).code ?? 'error'})`, { cause: error });
      }
      if (response.statusCode === 401 && !tokenIsFresh) {
        await response.body.dump();
        ({ token, fresh: tokenIsFresh } = await this.options.tokens.replacementFor(token, attempt > 0));
        continue;
      }
      const text = await response.body.text().catch(() => '');
      if (response.statusCode < 200 || response.statusCode >= 300) {
        throw new GatewayError('GW_DISCOVERY_FAILED', `MLOps API ${command} answered ${response.statusCode}`);
      }
      try {
        return JSON.parse(text) as T;
      } catch {
        throw new GatewayError('GW_DISCOVERY_FAILED', `MLOps API ${command} answered something that is not JSON`);
      }
    }
  }
}
