import { Writable } from 'node:stream';
import type { TestContext } from 'node:test';
import pino from 'pino';
import { Registry } from 'prom-client';
import { type GatewayConfig, parseConfig } from '../../src/config/load.ts';
import { loggerOptions } from '../../src/observability/logger.ts';
import { buildServer, type Gateway, type GatewayDeps } from '../../src/server.ts';
import { DEFAULT_CLIENT_SECRET, type Simulator } from '../../src/simulator/server.ts';

export interface TestGateway {
  url: string;
  /** The separate metrics listener's URL, when metrics.port is set. */
  metricsUrl: string | null;
  gateway: Gateway;
  config: GatewayConfig;
  registry: Registry;
  /** Every log line, parsed (pino's JSON), in order. */
  logs: Array<Record<string, unknown>>;
  /** The raw log text, for "never appears" checks. */
  logText(): string;
  close(): Promise<void>;
}

export type RawConfig = Record<string, unknown>;

/** The smallest config pointing at a simulator, with overrides merged per top-level section. */
export function simulatorConfig(simulator: Simulator, overrides: RawConfig = {}): RawConfig {
  const base: RawConfig = {
    // Load shedding off: the gateway shares its event loop with the test code, whose own work (building payloads)
    // must not make the gateway shed. test/limits/load-shedding.test.ts turns it on.
    server: { host: '127.0.0.1', port: 0, maxEventLoopDelayMs: 0 },
    wallaroo: { url: simulator.url, auth: { clientSecret: DEFAULT_CLIENT_SECRET } },
    pipelines: [
      { name: 'ccfraud', workspace: 'demo' },
      { name: 'urlpipeline', workspace: 'urlworkspace' },
      { name: 'summary', workspace: 8 },
    ],
    logging: { level: 'debug' },
  };
  const merged: RawConfig = { ...base };
  for (const [key, value] of Object.entries(overrides)) {
    const current = merged[key];
    merged[key] =
      value && typeof value === 'object' && !Array.isArray(value) && current && typeof current === 'object' && !Array.isArray(current)
        ? { ...(current as RawConfig), ...(value as RawConfig) }
        : value;
  }
  return merged;
}

/**
 * A config whose Wallaroo is a stand-in listening on `port` (tokens still come from the simulator), with one
 * pipeline at an explicit URL there: for faults the simulator cannot play (refusals, resets, cut answers).
 */
export function standInConfig(simulator: Simulator, port: number, pipeline: RawConfig & { name: string }): RawConfig {
  return simulatorConfig(simulator, {
    wallaroo: { url: `http://127.0.0.1:${port}`, auth: { clientSecret: DEFAULT_CLIENT_SECRET, tokenUrl: `${simulator.url}/auth/realms/master/protocol/openid-connect/token` } },
    pipelines: [{ url: `http://127.0.0.1:${port}/infer`, ...pipeline }],
  });
}

export const TOKEN_PATH = '/auth/realms/master/protocol/openid-connect/token';

/** Builds and starts a gateway on 127.0.0.1:0 with a captured log; closed when the test ends. */
export async function startGateway(t: TestContext | null, raw: RawConfig, env: Record<string, string> = {}, deps: Pick<GatewayDeps, 'now' | 'random'> = {}): Promise<TestGateway> {
  const config = parseConfig(raw, env);
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk, _encoding, done) {
      lines.push(...String(chunk).split('\n').filter(Boolean));
      done();
    },
  });
  const logger = pino(loggerOptions(config.logging.level), sink);
  const registry = new Registry();
  const gateway = await buildServer(config, { logger, registry, ...deps });
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    await gateway.app.close();
  };
  t?.after(close);
  await gateway.app.listen({ host: '127.0.0.1', port: 0 });
  if (gateway.metricsApp) await gateway.metricsApp.listen({ host: '127.0.0.1', port: 0 });
  const address = gateway.app.server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    metricsUrl: gateway.metricsApp ? `http://127.0.0.1:${(gateway.metricsApp.server.address() as { port: number }).port}` : null,
    gateway,
    config,
    registry,
    get logs() {
      return lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    },
    logText: () => lines.join('\n'),
    close,
  };
}

/**
 * `server` settings for tests that are not about load shedding: on a saturated test machine a start-up stall
 * of a second reads as event-loop delay, and the first requests would be shed (503 GW_OVERLOADED).
 */
export const SERVER_WITHOUT_SHEDDING = { maxEventLoopDelayMs: 0 } as const;
