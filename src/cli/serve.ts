import { setTimeout as sleep } from 'node:timers/promises';
import closeWithGrace from 'close-with-grace';
import { type GatewayConfig, loadConfigFile, parseConfig, readSecret } from '../config/load.ts';
import { buildServer, type Gateway } from '../server.ts';
import type { Simulator } from '../simulator/server.ts';
import { DEFAULT_WALLAROO_VERSION, type WallarooVersion } from '../simulator/versions/names.ts';
import { ListenError } from './start-failure.ts';

/** The chat request the demo prints as a streaming curl line. */
export const DEMO_CHAT = { messages: [{ role: 'user', content: 'stream these words back to me' }], stream: true };

export const DEMO_ROW = [
  -1.0603297501, 2.3544967095, -3.5638788326, 5.1387348926, -1.2308457019, -0.7687824608, -3.5881228109,
  1.8880837663, -3.2789674274, -3.9563254554, 4.0993439118, -5.6539176395, -0.8775733373, -9.131571192,
  -0.6093537873, -3.7480276773, -5.0309125017, -0.8748149526, 1.9870535692, 0.7005485718, 0.9204422758,
  -0.1041491809, 0.3229564351, -0.7418141657, 0.0384120159, 1.0993439146, 1.2603409756, -0.1466244739,
  -1.4463212439,
];

/** The demo's pipelines, each with the example body Swagger UI's "Try it out" sends. */
export const DEMO_PIPELINES = [
  { name: 'ccfraud', workspace: 'demo', inputSchema: { tensor: 'fixed_size_list<float32>[29]' }, example: [{ tensor: DEMO_ROW }] },
  { name: 'summary', workspace: 'demo', example: [{ amount: 12.5, items: 3 }, { amount: 7.25, items: 1 }] },
  // The simulator's OpenAI-compatible model: /pipelines/llm/openai/v1/{completions,chat/completions}.
  { name: 'llm', workspace: 'demo' },
];

/** The demo pipeline served on the OpenAI-compatible routes: configured only for a release that has them. */
const DEMO_OPENAI_PIPELINE = 'llm';

/** The demo's pipelines for a simulated release: without the OpenAI one before the release that has the endpoints. */
export function demoPipelines(simulator: Pick<Simulator, 'openAi'>): typeof DEMO_PIPELINES {
  return simulator.openAi ? DEMO_PIPELINES : DEMO_PIPELINES.filter((p) => p.name !== DEMO_OPENAI_PIPELINE);
}

/**
 * The demo: the embedded simulator and its pipelines, so `npm start` works on a fresh machine. Discovery uses
 * the simulator's user, as Wallaroo's MLOps API wants a user token.
 */
export function demoConfig(simulator: Simulator, clientSecret: string, user: { username: string; password: string }, env: NodeJS.ProcessEnv): GatewayConfig {
  return parseConfig(
    {
      server: { host: '127.0.0.1', port: 8080 },
      wallaroo: { url: simulator.url, auth: { clientSecret, tokenUrl: simulator.tokenUrl }, mlops: user },
      pipelines: demoPipelines(simulator),
    },
    env,
  );
}

export interface RunningGateway {
  gateway: Gateway;
  simulator: Simulator | null;
  url: string;
  shutdownGraceMs: number;
  drainDelayMs: number;
  /**
   * Stops listening and waits for the requests in flight; with `graceMs`, those still in flight after it are ended
   * (503 GW_SHUTDOWN, or cut) and counted in one warning. Then the pools close.
   */
  close(graceMs?: number): Promise<void>;
}

/**
 * Loads config (or the demo's), starts the simulator when asked (`simulate`: the Wallaroo release it plays) or in
 * demo mode, builds and listens.
 */
export async function startGateway(options: { configFile?: string | undefined; simulate: WallarooVersion | null; env: NodeJS.ProcessEnv }): Promise<RunningGateway> {
  const demo = !options.configFile;
  let simulator: Simulator | null = null;
  let config: GatewayConfig;
  // Loaded only when asked for: a production gateway never loads the simulator's code.
  const loadSimulator = () => import('../simulator/server.ts');
  if (demo) {
    const { DEFAULT_CLIENT_SECRET, DEFAULT_USER, startSimulator } = await loadSimulator();
    simulator = await startSimulator({ version: options.simulate ?? DEFAULT_WALLAROO_VERSION });
    config = demoConfig(simulator, DEFAULT_CLIENT_SECRET, DEFAULT_USER, options.env);
  } else {
    config = loadConfigFile(options.configFile!, options.env);
    if (options.simulate) {
      // The simulator stands in for Wallaroo, accepting the configured client and its secret (and user).
      const secret = await readSecret(config.wallaroo.auth.clientSecret);
      const { mlops } = config.wallaroo;
      const users = mlops ? { [mlops.username]: await readSecret(mlops.password) } : undefined;
      const { startSimulator } = await loadSimulator();
      simulator = await startSimulator({ version: options.simulate, clients: { [config.wallaroo.auth.clientId]: secret }, users });
      config = { ...config, wallaroo: { ...config.wallaroo, url: simulator.url, origin: new URL(simulator.url).origin, auth: { ...config.wallaroo.auth, tokenUrl: simulator.tokenUrl } } };
      config.pipelines = config.pipelines.map((p) => (p.url ? { ...p, url: `${simulator!.url}${new URL(p.url).pathname}` } : p));
    }
  }
  let gateway: Gateway;
  try {
    gateway = await buildServer(config);
  } catch (error) {
    await simulator?.close();
    throw error;
  }
  const listen = async (listener: 'server' | 'metrics', app: Gateway['app'], host: string, port: number) => {
    try {
      await app.listen({ host, port });
    } catch (error) {
      // Closing the app also closes the metrics listener, the token timers and the pools (its onClose hook).
      await gateway.app.close();
      await simulator?.close();
      throw new ListenError(listener, host, port, error as NodeJS.ErrnoException);
    }
  };
  await listen('server', gateway.app, config.server.host, config.server.port);
  if (gateway.metricsApp) await listen('metrics', gateway.metricsApp, config.metrics.host, config.metrics.port ?? 0);
  const address = gateway.app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.server.port;
  const host = config.server.host === '0.0.0.0' || config.server.host === '::' ? '127.0.0.1' : config.server.host;
  const url = `${config.server.tls ? 'https' : 'http'}://${host}:${port}`;
  return {
    gateway,
    simulator,
    url,
    shutdownGraceMs: config.server.shutdownGraceMs,
    drainDelayMs: config.server.drainDelayMs,
    close: async (graceMs) => {
      gateway.startDraining();
      const closing = gateway.app.close();
      if (graceMs !== undefined) await endAfterGrace(gateway, closing, graceMs);
      await closing;
      await simulator?.close();
    },
  };
}

/** Waits up to `graceMs` for `closing`; past it, ends every request still in flight and says how many. */
async function endAfterGrace(gateway: Gateway, closing: PromiseLike<unknown>, graceMs: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const graceOver = new Promise<'grace over'>((resolve) => {
    timer = setTimeout(resolve, graceMs, 'grace over');
  });
  const outcome = await Promise.race([Promise.resolve(closing).then(() => 'closed' as const), graceOver]);
  clearTimeout(timer);
  if (outcome === 'closed') return;
  const ended = gateway.endInFlight(graceMs);
  gateway.app.log.warn({ ended, shutdownGraceMs: graceMs }, `shutdown grace ran out: ${ended} request(s) still in flight ended (503 GW_SHUTDOWN, or cut when their answer had started)`);
  // Closing also waits for connections that carry no request (a silent client, a TCP probe, a TLS handshake never
  // finished): once the ended requests' answers had a moment to go out, every connection left is cut.
  setTimeout(() => {
    const cut = gateway.closeConnections();
    if (cut > 0) gateway.app.log.info({ connections: cut }, `shutdown: ${cut} connection(s) still open cut`);
  }, ANSWERS_FLUSH_MS).unref();
}

/** After the grace, how long the ended requests' answers may take to go out before every connection is cut. */
const ANSWERS_FLUSH_MS = 1_000;

/**
 * After the grace, how long closing may still take (the ended requests' answers, the pools, the tracing export)
 * before the process gives up with exit 1: the one shutdown that failed.
 */
export const CLOSE_MARGIN_MS = 3_000;

/**
 * Drains as Kubernetes expects. SIGTERM: /readyz answers 503 GW_DRAINING at once while the listener keeps serving
 * for drainDelayMs (endpoint removal takes that long to reach every proxy); then the listener closes and in-flight
 * requests finish, for up to shutdownGraceMs. Requests still in flight then are ended as documented (503
 * GW_SHUTDOWN with Connection: close, or cut when their answer had started; each gets its log line, and one warning
 * counts them): that is the designed shutdown, so pools close and the process exits 0. Exit 1 only for a real
 * failure: an error that caused the close, or closing still unfinished CLOSE_MARGIN_MS after the grace.
 * SIGINT (Ctrl-C) skips the delay.
 */
function drainOnSignals(running: RunningGateway): void {
  const { app } = running.gateway;
  const { drainDelayMs, shutdownGraceMs } = running;
  const delay = drainDelayMs + shutdownGraceMs + CLOSE_MARGIN_MS;
  const onTimeout = () =>
    app.log.error(`shutdown did not finish within ${delay} ms (server.drainDelayMs ${drainDelayMs} + server.shutdownGraceMs ${shutdownGraceMs} + ${CLOSE_MARGIN_MS} to close): exiting 1`);
  closeWithGrace({ delay, onTimeout, logger: { error: (message: string) => app.log.error(message) } }, async ({ signal, err }) => {
    running.gateway.startDraining();
    if (err) {
      app.log.error({ err }, 'closing after an unexpected error');
    } else if (signal === 'SIGTERM' && drainDelayMs > 0) {
      app.log.info({ signal, drainDelayMs }, 'draining: not ready, still serving until endpoints are removed');
      await sleep(drainDelayMs);
    }
    app.log.info({ signal, shutdownGraceMs }, 'closing: finishing in-flight requests');
    await running.close(shutdownGraceMs);
  });
}

export async function serveCommand(configFile: string, simulate: WallarooVersion | null, env: NodeJS.ProcessEnv): Promise<void> {
  drainOnSignals(await startGateway({ configFile, simulate, env }));
}

/** `demo` (what `npm start` runs): the simulator and the demo pipelines, with curl lines to try. */
export async function demoCommand(version: WallarooVersion | null, env: NodeJS.ProcessEnv, out: NodeJS.WritableStream): Promise<void> {
  const running = await startGateway({ simulate: version ?? DEFAULT_WALLAROO_VERSION, env });
  const { url } = running;
  const simulator = running.simulator!;
  out.write(
    `\nwallaroo-gateway demo: gateway on ${url}, embedded Wallaroo ${simulator.version} simulator on ${simulator.url}\n` +
      `try:\n  curl -s -X POST ${url}/pipelines/ccfraud/infer \\\n` +
      `    -H 'Content-Type: application/json; format=pandas-records' \\\n` +
      `    -d '[{"tensor":${JSON.stringify(DEMO_ROW)}}]'\n` +
      // Releases before 2025 have no OpenAI-compatible endpoints: no such pipeline, no such line.
      (simulator.openAi
        ? `an OpenAI-compatible pipeline, streamed (Server-Sent Events):\n  curl -sN -X POST ${url}/pipelines/${DEMO_OPENAI_PIPELINE}/openai/v1/chat/completions \\\n` +
          `    -H 'Content-Type: application/json' \\\n` +
          `    -d '${JSON.stringify(DEMO_CHAT)}'\n`
        : '') +
      `also: curl -s ${url}/pipelines ; curl -s ${url}/metrics\n` +
      `status page: ${url}/   API docs with "Try it out": ${url}/docs/\n\n`,
  );
  drainOnSignals(running);
}
