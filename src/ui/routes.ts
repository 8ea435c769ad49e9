// The operator's views: the status page (GET /, GET /status.json) on the main or the metrics listener, and
// Swagger UI (GET /docs) for the gateway's and every pipeline's OpenAPI document on the main listener, where
// "Try it out" can reach the routes it documents. Swagger UI's assets are served from the package itself.
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';
import type { GatewayConfig, PipelineConfig } from '../config/types.ts';
import { GATEWAY_VERSION } from '../http/version.ts';
import { STATUS_PAGE_CSP, statusPageHtml } from './status-page.ts';
import { StatusReporter } from './status.ts';
import type { PipelineRuntime, StatusSource } from './status-source.ts';

/** A token's state as the gateway reports it (auth's TokenStatus): the last error's cause and when. */
export interface TokenState {
  kind: 'inference' | 'mlops';
  valid: boolean;
  lastError: { cause: string; at: string } | null;
}

export interface UiOptions {
  config: GatewayConfig;
  registry: Registry;
  app: FastifyInstance;
  metricsApp: FastifyInstance | null;
  pipelines(): PipelineRuntime[];
  tokens(): TokenState[];
  draining(): boolean;
}

/** The status page and Swagger UI where `ui` puts them (nothing when `ui.enabled` is false). */
export async function registerUi(options: UiOptions): Promise<void> {
  const { config } = options;
  if (!config.ui.enabled) return;
  const source: StatusSource = {
    pipelines: options.pipelines,
    tokens: () => options.tokens().map((t) => ({ kind: t.kind, valid: t.valid, lastError: t.lastError && { at: Date.parse(t.lastError.at), message: t.lastError.cause } })),
    draining: options.draining,
  };
  const reporter = new StatusReporter({ config, registry: options.registry, source, version: GATEWAY_VERSION });
  // biome-ignore lint/nursery/noMisusedPromises: an async plugin is valid for register (FastifyPluginAsync); Biome reads only the callback overload
  await options.app.register(docsRoutes, { pipelines: config.pipelines });
  // biome-ignore lint/nursery/noMisusedPromises: an async plugin is valid for register (FastifyPluginAsync); Biome reads only the callback overload
  if (config.ui.port === 'main') await options.app.register(statusRoutes, { reporter, apiLinks: true });
  // biome-ignore lint/nursery/noMisusedPromises: an async plugin is valid for register (FastifyPluginAsync); Biome reads only the callback overload
  else if (options.metricsApp) await options.metricsApp.register(statusRoutes, { reporter, apiLinks: false });
}

export interface StatusRoutesOptions {
  reporter: StatusReporter;
  /** Served beside the API (links to the docs and /pipelines), not on the metrics listener. */
  apiLinks: boolean;
}

export async function statusRoutes(app: FastifyInstance, options: StatusRoutesOptions): Promise<void> {
  const html = statusPageHtml(options.apiLinks);
  app.get('/', { config: { route: 'ui' }, schema: { hide: true } }, (_request, reply) => {
    void reply
      .header('content-type', 'text/html; charset=utf-8')
      .header('content-security-policy', STATUS_PAGE_CSP)
      .header('x-content-type-options', 'nosniff')
      .header('referrer-policy', 'no-referrer')
      .header('cache-control', 'no-store')
      .send(html);
  });
  app.get('/status.json', {
    config: { route: 'status' },
    schema: { summary: 'What the status page shows: pipelines (rate, errors, latency, breaker, queue, last error), tokens, gateway', tags: ['health'] },
  }, async (_request, reply) => {
    void reply.header('cache-control', 'no-store');
    return options.reporter.report();
  });
}

const LOGO = `<svg xmlns="http://www.w3.org/2000/svg" width="260" height="40" viewBox="0 0 260 40"><text x="0" y="27" font-family="system-ui, sans-serif" font-size="22" font-weight="700" fill="#fff">wallaroo-gateway</text><text x="196" y="27" font-family="system-ui, sans-serif" font-size="15" fill="#9fe3c4">API</text></svg>`;

/** Swagger UI's own files only; it fetches the documents from this origin. */
const DOCS_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "script-src-attr 'none'",
  // Swagger UI adds <style> elements at run time; scripts stay limited to its own files.
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

export async function docsRoutes(app: FastifyInstance, options: { pipelines: readonly PipelineConfig[] }): Promise<void> {
  // Every route Swagger UI adds (page, documents, static files) is labelled 'docs' in the metrics and log.
  app.addHook('onRoute', (route) => {
    route.config = { ...route.config, route: 'docs' };
  });
  await app.register(swaggerUi, {
    routePrefix: '/docs',
    uiConfig: {
      urls: [
        { name: 'gateway', url: '/openapi.json' },
        ...options.pipelines.map((p) => ({ name: `pipeline ${p.name}`, url: `/pipelines/${encodeURIComponent(p.name)}/openapi.yaml` })),
      ],
      'urls.primaryName': 'gateway',
      displayRequestDuration: true,
      defaultModelsExpandDepth: 0,
    } as Record<string, unknown>,
    staticCSP: DOCS_CSP,
    logo: { type: 'image/svg+xml', content: Buffer.from(LOGO), href: '/', target: '_self' },
  });
}
