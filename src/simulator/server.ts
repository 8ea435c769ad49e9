// An embedded Wallaroo, modelled per release from recorded answers (versions/): Keycloak's token endpoint,
// the MLOps API commands the gateway uses, native and OpenAI-compatible inference. Versions before 2024.2
// serve Keycloak from a host of its own (here: a second listener). Tests steer it through `control`.
import type { AddressInfo } from 'node:net';
import Fastify, { type FastifyInstance } from 'fastify';
import { type SimulatedWorkspace, SimulatorControl } from './control.ts';
import type { EngineCostModel } from './engine.ts';
import { registerInference } from './inference.ts';
import { registerKeycloak, TOKEN_PATH } from './keycloak.ts';
import { registerMlops } from './mlops.ts';
import { registerOpenAi } from './openai.ts';
import { DEFAULT_WALLAROO_VERSION, versionProfile, type WallarooVersion } from './versions/index.ts';

export type { InjectedFault, SeenRequest, SimulatedPipeline, SimulatedWorkspace, SimulatorEventName, SimulatorEvents } from './control.ts';
export { SimulatorControl } from './control.ts';
export { DEFAULT_ENGINE_COST, type EngineCostModel } from './engine.ts';
export { DEFAULT_WALLAROO_VERSION, isWallarooVersion, WALLAROO_VERSIONS, type WallarooVersion } from './versions/index.ts';

export interface SimulatorOptions {
  /** The Wallaroo release to behave like (default 2025). */
  version?: WallarooVersion;
  /** Confidential clients: id -> secret (default `api-client`). `sdk-client` is always there, public. */
  clients?: Record<string, string>;
  /** Users for the password grant: username -> password. */
  users?: Record<string, string>;
  /** Overrides the version's recorded lifetime of every access token. */
  tokenLifetimeSeconds?: number;
  /** Overrides the version's refresh-token lifetime. */
  refreshLifetimeSeconds?: number;
  workspaces?: SimulatedWorkspace[];
  /** The MLOps API takes a service account's (client_credentials) token too; Wallaroo documents a user token. */
  mlopsAcceptsServiceAccountTokens?: boolean;
  host?: string;
  port?: number;
  /** Port of the separate Keycloak host, in versions that have one. */
  keycloakPort?: number;
  /** The engine's cost model (per-call overhead, per-row cost, workers); true: the defaults; absent: off. */
  engineCost?: Partial<EngineCostModel> | boolean;
}

export const DEFAULT_CLIENT_SECRET = 'simulator-secret';
export const DEFAULT_USER = { username: 'admin', password: 'admin-password' } as const;
export const DEFAULT_WORKSPACES: SimulatedWorkspace[] = [
  { id: 7, name: 'urlworkspace', pipelines: [{ name: 'urlpipeline', model: 'ccfraud' }] },
  {
    id: 8,
    name: 'demo',
    pipelines: [
      { name: 'ccfraud', model: 'ccfraud' },
      { name: 'summary', model: 'summary' },
      { name: 'llm', model: 'openai' },
    ],
  },
];

export interface Simulator {
  version: WallarooVersion;
  /** Whether this release has the OpenAI-compatible endpoints (its version profile says: 2025 and later). */
  openAi: boolean;
  /** The API and inference host: what `wallaroo.url` points at. */
  url: string;
  /** Keycloak's host: `url` itself, or a host of its own before 2024.2. */
  keycloakUrl: string;
  tokenUrl: string;
  control: SimulatorControl;
  app: FastifyInstance;
  close(): Promise<void>;
}

function createApp(): FastifyInstance {
  // Closing the simulator drops every connection, as a Wallaroo going away would: a test's teardown never waits
  // out the 30 s keep-alive of a connection the gateway still holds.
  const app = Fastify({ logger: false, bodyLimit: 512 * 1024 * 1024, keepAliveTimeout: 30_000, forceCloseConnections: true });
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_req, body, done) => done(null, body));
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));
  return app;
}

async function listen(app: FastifyInstance, host: string, port: number): Promise<string> {
  await app.listen({ host, port });
  const address = app.server.address() as AddressInfo;
  return `http://${address.family === 'IPv6' ? `[${address.address}]` : address.address}:${address.port}`;
}

export async function startSimulator(options: SimulatorOptions = {}): Promise<Simulator> {
  const profile = versionProfile(options.version ?? DEFAULT_WALLAROO_VERSION);
  const control = new SimulatorControl({
    profile,
    clients: { ...(options.clients ?? { 'api-client': DEFAULT_CLIENT_SECRET }) },
    users: { ...(options.users ?? { [DEFAULT_USER.username]: DEFAULT_USER.password }) },
    workspaces: options.workspaces ?? DEFAULT_WORKSPACES,
    tokenLifetimeSeconds: options.tokenLifetimeSeconds ?? null,
    refreshLifetimeSeconds: options.refreshLifetimeSeconds ?? null,
    mlopsAcceptsServiceAccountTokens: options.mlopsAcceptsServiceAccountTokens ?? false,
  });
  if (options.engineCost) control.setEngineCost(options.engineCost === true ? {} : options.engineCost);
  const host = options.host ?? '127.0.0.1';
  const api = createApp();
  registerMlops(api, control);
  registerInference(api, control);
  registerOpenAi(api, control);
  const keycloak = profile.keycloakOnOwnHost ? createApp() : api;
  registerKeycloak(keycloak, control);
  const apps = keycloak === api ? [api] : [api, keycloak];
  try {
    control.baseUrl = await listen(api, host, options.port ?? 0);
    control.keycloakUrl = keycloak === api ? control.baseUrl : await listen(keycloak, host, options.keycloakPort ?? 0);
  } catch (error) {
    await Promise.all(apps.map((app) => app.close()));
    throw error;
  }
  return {
    version: profile.version,
    openAi: profile.openAi,
    url: control.baseUrl,
    keycloakUrl: control.keycloakUrl,
    tokenUrl: `${control.keycloakUrl}${TOKEN_PATH}`,
    control,
    app: api,
    close: async () => {
      await Promise.all(apps.map((app) => app.close()));
    },
  };
}
