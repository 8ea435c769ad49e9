import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { type DataType, type FixedSizeList, Precision, type Table, tableToIPC, Type } from 'apache-arrow';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { parseInputSchema } from '../convert/arrow-types.ts';
import { readArrow } from '../convert/arrow-to-json.ts';
import { recordsToTable } from '../convert/json-to-arrow.ts';
import { mediaType } from '../http/headers.ts';
import { JwtSigner } from './jwt.ts';
import { type ModelKind, ModelInputError, runModel } from './models.ts';
import { complete, completionBody, OpenAiInputError, type OpenAiRequest, streamChunks } from './openai.ts';

/**
 * An embedded Wallaroo, faithful where the gateway depends on it: Keycloak's token endpoint, the MLOps API
 * (`workspaces/list`, `admin/get_pipeline_external_url`) and pipeline inference in pandas-records JSON and
 * Arrow IPC file, with strict token checks. Tests steer it through `control`: redeploys, latency, faults.
 */
export interface SimulatedPipeline {
  name: string;
  model: ModelKind | 'openai';
  deployed?: boolean;
}

export interface SimulatedWorkspace {
  id: number;
  name: string;
  pipelines: SimulatedPipeline[];
}

export interface SimulatorOptions {
  /** Confidential clients (client_credentials): id -> secret. */
  clients?: Record<string, string>;
  /** Users for the public `sdk-client` (password grant): username -> password. */
  users?: Record<string, string>;
  tokenLifetimeSeconds?: number;
  workspaces?: SimulatedWorkspace[];
  /** When true, the admin API refuses service-account (client_credentials) tokens, as some Wallaroo installs do. */
  adminRequiresUserToken?: boolean;
  host?: string;
  port?: number;
}

export const DEFAULT_CLIENT_SECRET = 'simulator-secret';
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

interface PipelineState {
  workspace: SimulatedWorkspace;
  pipeline: SimulatedPipeline;
  deployId: number;
  deployed: boolean;
  version: string;
}

export interface InjectedFault {
  status: number;
  headers?: Record<string, string>;
  body?: string;
}

/** What the simulator saw of the last inference request, so tests can check what the gateway forwarded. */
export interface SeenRequest {
  method: string;
  url: string;
  headers: Record<string, string | string[] | undefined>;
  bodyBytes: number;
}

export class SimulatorControl {
  tokenLifetimeSeconds: number;
  latencyMs = 0;
  tokenLatencyMs = 0;
  /** Delay between signing a token and sending it: a token on the wire while the realm's keys rotate. */
  tokenDeliveryDelayMs = 0;
  tokenEndpointDown = false;
  /** Delay before each streamed OpenAI token. */
  streamTokenDelayMs = 10;
  /** Drop the connection after this many streamed tokens (a mid-stream failure); null: never. */
  streamFailAfterTokens: number | null = null;
  readonly counts = { token: 0, tokenByGrant: {} as Record<string, number>, mlops: 0, inference: 0, abortedByCaller: 0 };
  readonly inferenceFaults: InjectedFault[] = [];
  readonly tokenFaults: InjectedFault[] = [];
  readonly seen: SeenRequest[] = [];
  /** Every access and refresh token issued, so tests can check none of them leaks anywhere. */
  readonly issuedTokens: string[] = [];
  readonly pipelines = new Map<string, PipelineState>();
  readonly signer = new JwtSigner();
  baseUrl = '';

  constructor(
    readonly clients: Record<string, string>,
    readonly users: Record<string, string>,
    workspaces: SimulatedWorkspace[],
    tokenLifetimeSeconds: number,
    readonly adminRequiresUserToken: boolean,
  ) {
    this.tokenLifetimeSeconds = tokenLifetimeSeconds;
    let deployId = 260;
    for (const workspace of workspaces) {
      for (const pipeline of workspace.pipelines) {
        this.pipelines.set(pipeline.name, { workspace, pipeline, deployId: deployId++, deployed: pipeline.deployed ?? true, version: randomUUID() });
      }
    }
  }

  private state(name: string): PipelineState {
    const state = this.pipelines.get(name);
    if (!state) throw new Error(`simulator has no pipeline ${name}`);
    return state;
  }

  inferenceUrl(name: string): string {
    const { deployId } = this.state(name);
    return `${this.baseUrl}/v1/api/pipelines/infer/${name}-${deployId}/${name}`;
  }

  /** A new deployment: new deploy id, so the old inference URL answers 404 from now on. */
  redeploy(name: string): string {
    const state = this.state(name);
    state.deployId += 1000;
    state.version = randomUUID();
    state.deployed = true;
    return this.inferenceUrl(name);
  }

  setDeployed(name: string, deployed: boolean): void {
    this.state(name).deployed = deployed;
  }

  /** Fail the next `count` inference calls with this answer. */
  failInference(count: number, fault: InjectedFault = { status: 500 }): void {
    for (let i = 0; i < count; i++) this.inferenceFaults.push(fault);
  }

  failToken(count: number, fault: InjectedFault = { status: 503 }): void {
    for (let i = 0; i < count; i++) this.tokenFaults.push(fault);
  }

  /** Invalidate every token issued so far (Keycloak key rotation / session revocation). */
  revokeAllTokens(): void {
    this.signer.rotate();
  }

  setClientSecret(clientId: string, secret: string): void {
    this.clients[clientId] = secret;
  }
}

export interface Simulator {
  url: string;
  control: SimulatorControl;
  app: FastifyInstance;
  close(): Promise<void>;
}

// The answer's Arrow schema, as Wallaroo writes it (struct columns keep JSON and Arrow answers the same data).
const ANSWER_SCHEMA: Record<ModelKind, Record<string, string>> = {
  ccfraud: {
    time: 'timestamp[ms]',
    in: 'struct<tensor: fixed_size_list<float32>[29]>',
    out: 'struct<dense_1: list<float32>>',
    check_failures: 'list<string>',
    metadata: 'struct<last_model: string, pipeline_version: string, elapsed: list<uint64>, dropped: list<string>, partition: string>',
  },
  summary: {
    time: 'timestamp[ms]',
    out: 'struct<sum: list<float64>, count: list<int64>>',
    check_failures: 'list<string>',
    metadata: 'struct<last_model: string, pipeline_version: string, elapsed: list<uint64>, dropped: list<string>, partition: string>',
  },
};
const ANSWER_TYPES = Object.fromEntries(
  Object.entries(ANSWER_SCHEMA).map(([kind, schema]) => [kind, parseInputSchema(schema)]),
) as Record<ModelKind, Map<string, DataType>>;

function formDecode(text: string): string {
  return decodeURIComponent(text.replace(/\+/g, ' '));
}

/** RFC 6749 2.3.1: id and secret are form-urlencoded before base64. */
function basicCredentials(header: string | undefined): { id: string; secret: string } | null {
  if (!header || !/^basic /i.test(header)) return null;
  const decoded = Buffer.from(header.slice(6).trim(), 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return null;
  try {
    return { id: formDecode(decoded.slice(0, colon)), secret: formDecode(decoded.slice(colon + 1)) };
  } catch {
    return null;
  }
}

function filterDataset(rows: Record<string, unknown>[], query: Record<string, unknown>): Record<string, unknown>[] {
  const wanted = query['dataset[]'] ?? query.dataset;
  const keep = wanted === undefined ? null : new Set(([] as unknown[]).concat(wanted).map(String));
  const separator = typeof query['dataset.separator'] === 'string' ? query['dataset.separator'] : null;
  return rows.map((row) => {
    const out: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(row)) {
      if (keep && !keep.has('*') && !keep.has(key)) continue;
      if (separator && value !== null && typeof value === 'object' && !Array.isArray(value)) {
        for (const [inner, innerValue] of Object.entries(value)) out[`${key}${separator}${inner}`] = innerValue;
      } else {
        out[key] = value;
      }
    }
    return out;
  });
}

/** Arrow rows hold Vectors for list cells; the model wants plain arrays. */
function plainRow(row: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(row)) {
    const vector = value as { toArray?: () => ArrayLike<unknown> } | null;
    out[key] = vector && typeof vector.toArray === 'function' ? Array.from(vector.toArray()) : value;
  }
  return out;
}

function isCcfraudTensorType(type: DataType | undefined): boolean {
  if (!type || type.typeId !== Type.FixedSizeList || (type as FixedSizeList).listSize !== 29) return false;
  const child = type.children[0]?.type as DataType | undefined;
  return child?.typeId === Type.Float && (child as unknown as { precision: number }).precision === Precision.SINGLE;
}

export async function startSimulator(options: SimulatorOptions = {}): Promise<Simulator> {
  const control = new SimulatorControl(
    { ...(options.clients ?? { 'api-client': DEFAULT_CLIENT_SECRET }) },
    { ...(options.users ?? { admin: 'admin-password' }) },
    options.workspaces ?? DEFAULT_WORKSPACES,
    options.tokenLifetimeSeconds ?? 300,
    options.adminRequiresUserToken ?? false,
  );
  const app = Fastify({ logger: false, bodyLimit: 512 * 1024 * 1024, keepAliveTimeout: 30_000 });
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_req, body, done) => done(null, body));
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));

  const now = () => Math.floor(Date.now() / 1000);

  /** Signs the tokens at once and answers after `tokenDeliveryDelayMs` (a signed token on the wire). */
  async function issueTokens(subject: string, clientId: string, withRefresh: boolean): Promise<Record<string, unknown>> {
    const iat = now();
    const lifetime = control.tokenLifetimeSeconds;
    const body: Record<string, unknown> = {
      access_token: control.signer.sign({ iss: `${control.baseUrl}/auth/realms/master`, sub: subject, azp: clientId, typ: 'Bearer', iat, exp: iat + lifetime }),
      expires_in: lifetime,
      refresh_expires_in: withRefresh ? lifetime * 6 : 0,
      token_type: 'Bearer',
      'not-before-policy': 0,
      scope: 'profile email',
    };
    if (withRefresh) {
      body.refresh_token = control.signer.sign({ sub: subject, azp: clientId, typ: 'Refresh', iat, exp: iat + lifetime * 6 });
    }
    for (const token of [body.access_token, body.refresh_token]) if (typeof token === 'string') control.issuedTokens.push(token);
    if (control.issuedTokens.length > 1000) control.issuedTokens.splice(0, control.issuedTokens.length - 1000);
    if (control.tokenDeliveryDelayMs > 0) await sleep(control.tokenDeliveryDelayMs);
    return body;
  }

  app.post('/auth/realms/master/protocol/openid-connect/token', async (request, reply) => {
    control.counts.token++;
    if (control.tokenLatencyMs > 0) await sleep(control.tokenLatencyMs);
    if (control.tokenEndpointDown) {
      request.raw.socket.destroy(); // a provider that is down: the connection dies without an answer
      return reply;
    }
    const fault = control.tokenFaults.shift();
    if (fault) return reply.code(fault.status).headers(fault.headers ?? {}).send(fault.body ?? '');
    if (mediaType(request.headers['content-type']) !== 'application/x-www-form-urlencoded') {
      return reply.code(400).send({ error: 'invalid_request', error_description: 'form body required' });
    }
    const form = new URLSearchParams(String(request.body ?? ''));
    const grant = form.get('grant_type') ?? '';
    control.counts.tokenByGrant[grant] = (control.counts.tokenByGrant[grant] ?? 0) + 1;
    // Keycloak sets session cookies on this endpoint; the gateway must never pass them on.
    reply.header('set-cookie', 'KC_RESTART=simulated; Path=/auth/realms/master; HttpOnly');
    if (grant === 'client_credentials') {
      const credentials = basicCredentials(request.headers.authorization) ??
        (form.get('client_id') ? { id: form.get('client_id')!, secret: form.get('client_secret') ?? '' } : null);
      if (!credentials || control.clients[credentials.id] === undefined || control.clients[credentials.id] !== credentials.secret) {
        return reply.code(401).send({ error: 'invalid_client', error_description: 'Invalid client or Invalid client credentials' });
      }
      return issueTokens(`service-account-${credentials.id}`, credentials.id, false);
    }
    if (grant === 'password') {
      const username = form.get('username') ?? '';
      if (form.get('client_id') !== 'sdk-client') return reply.code(401).send({ error: 'invalid_client', error_description: 'Invalid client' });
      if (control.users[username] === undefined || control.users[username] !== form.get('password')) {
        return reply.code(401).send({ error: 'invalid_grant', error_description: 'Invalid user credentials' });
      }
      return issueTokens(username, 'sdk-client', true);
    }
    if (grant === 'refresh_token') {
      const verified = control.signer.verify(form.get('refresh_token') ?? '', now());
      if (!verified.ok || verified.claims.typ !== 'Refresh') {
        return reply.code(400).send({ error: 'invalid_grant', error_description: 'Invalid refresh token' });
      }
      return issueTokens(String(verified.claims.sub), 'sdk-client', true);
    }
    return reply.code(400).send({ error: 'unsupported_grant_type', error_description: `grant ${grant} not supported` });
  });

  function authenticate(request: FastifyRequest, reply: FastifyReply): { sub: string } | null {
    const header = request.headers.authorization ?? '';
    const match = /^Bearer (.+)$/.exec(header);
    const verified = match ? control.signer.verify(match[1]!, now()) : ({ ok: false, reason: 'missing token' } as const);
    if (!verified.ok) {
      void reply.code(401).header('www-authenticate', `Bearer error="invalid_token", error_description="${verified.reason}"`).send({ status: 401, error: verified.reason });
      return null;
    }
    return { sub: String(verified.claims.sub) };
  }

  app.post('/v1/api/workspaces/list', async (request, reply) => {
    control.counts.mlops++;
    if (!authenticate(request, reply)) return reply;
    const seen = new Map<number, SimulatedWorkspace>();
    for (const { workspace } of control.pipelines.values()) seen.set(workspace.id, workspace);
    return {
      workspaces: [...seen.values()].map((w) => ({
        id: w.id, name: w.name, created_at: '2026-01-01T00:00:00Z', created_by: 'admin', archived: false, models: [],
        pipelines: w.pipelines.map((p) => control.pipelines.get(p.name)!.deployId),
      })),
    };
  });

  app.post('/v1/api/admin/get_pipeline_external_url', async (request, reply) => {
    control.counts.mlops++;
    const who = authenticate(request, reply);
    if (!who) return reply;
    if (control.adminRequiresUserToken && who.sub.startsWith('service-account-')) {
      return reply.code(403).send({ status: 403, error: 'admin API requires a user token' });
    }
    let body: { workspace_id?: unknown; pipeline_name?: unknown };
    try {
      body = JSON.parse(String(request.body ?? '{}'));
    } catch {
      return reply.code(400).send({ status: 400, error: 'invalid JSON' });
    }
    const state = typeof body.pipeline_name === 'string' ? control.pipelines.get(body.pipeline_name) : undefined;
    if (!state || state.workspace.id !== body.workspace_id) {
      return reply.code(404).send({ status: 404, error: `pipeline ${String(body.pipeline_name)} not found in workspace ${String(body.workspace_id)}` });
    }
    return { url: control.inferenceUrl(state.pipeline.name) };
  });

  /** What every inference-plane call checks: token, live deployment, injected faults and latency. */
  async function deployedPipeline(request: FastifyRequest, reply: FastifyReply): Promise<PipelineState | null> {
    control.counts.inference++;
    // The caller (the gateway) hung up before the answer was written: it aborted the request.
    reply.raw.once('close', () => {
      if (!reply.raw.writableFinished) control.counts.abortedByCaller++;
    });
    const body = (request.body as Buffer | undefined) ?? Buffer.alloc(0);
    control.seen.push({ method: request.method, url: request.url, headers: { ...request.headers }, bodyBytes: body.length });
    if (control.seen.length > 100) control.seen.shift();
    if (!authenticate(request, reply)) return null;
    const { deployment, pipeline } = request.params as { deployment: string; pipeline: string };
    const state = control.pipelines.get(pipeline);
    if (!state || deployment !== `${pipeline}-${state.deployId}`) {
      void reply.code(404).send({ status: 404, error: `no deployment ${deployment}` });
      return null;
    }
    if (!state.deployed) {
      void reply.code(503).header('retry-after', '1').send({ status: 503, error: 'pipeline is not deployed' });
      return null;
    }
    const fault = control.inferenceFaults.shift();
    if (control.latencyMs > 0) await sleep(control.latencyMs);
    if (fault) {
      void reply.code(fault.status).headers(fault.headers ?? {}).send(fault.body ?? JSON.stringify({ status: fault.status, error: 'injected fault' }));
      return null;
    }
    return state;
  }

  for (const kind of ['completions', 'chat/completions'] as const) {
    app.post(`/v1/api/pipelines/infer/:deployment/:pipeline/openai/v1/${kind}`, async (request, reply) => {
      const state = await deployedPipeline(request, reply);
      if (!state) return reply;
      if (state.pipeline.model !== 'openai') return reply.code(404).send({ status: 404, error: 'this pipeline has no OpenAI-compatible model' });
      let openAi: OpenAiRequest;
      let result: ReturnType<typeof complete>;
      try {
        const parsed: unknown = JSON.parse(((request.body as Buffer | undefined) ?? Buffer.alloc(0)).toString('utf8'));
        if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new OpenAiInputError('the body must be a JSON object');
        openAi = { kind, body: parsed as Record<string, unknown> };
        result = complete(openAi);
      } catch (error) {
        const message = error instanceof OpenAiInputError ? error.message : 'invalid JSON';
        return reply.code(400).send({ error: { message, type: 'invalid_request_error', code: null } });
      }
      const id = `cmpl-${randomUUID()}`;
      const created = Math.floor(Date.now() / 1000);
      if (openAi.body.stream !== true) return completionBody(openAi, result, id, state.pipeline.name, created);
      reply.hijack();
      const raw = reply.raw;
      raw.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
      raw.flushHeaders(); // as model servers do: the stream is open before the first token is ready
      const chunks = streamChunks(openAi, result, id, state.pipeline.name, created);
      for (let i = 0; i < chunks.length; i++) {
        if (raw.destroyed) return;
        if (control.streamTokenDelayMs > 0) await sleep(control.streamTokenDelayMs);
        if (control.streamFailAfterTokens !== null && i === control.streamFailAfterTokens) {
          raw.socket?.destroy(); // the model server dies mid-stream, after the earlier tokens went out
          return;
        }
        raw.write(`data: ${JSON.stringify(chunks[i])}\n\n`);
      }
      raw.end('data: [DONE]\n\n');
    });
  }

  app.post('/v1/api/pipelines/infer/:deployment/:pipeline', async (request, reply) => {
    const state = await deployedPipeline(request, reply);
    if (!state) return reply;
    if (state.pipeline.model === 'openai') return reply.code(400).send({ status: 400, error: 'use the openai/v1 endpoints of this pipeline' });
    const body = (request.body as Buffer | undefined) ?? Buffer.alloc(0);

    const started = process.hrtime.bigint();
    const contentType = mediaType(request.headers['content-type']);
    let inputs: Record<string, unknown>[];
    let inputTable: Table | null = null;
    try {
      if (contentType === 'application/json') {
        const parsed: unknown = JSON.parse(body.toString('utf8'));
        if (!Array.isArray(parsed)) throw new ModelInputError('expected pandas-records (an array of rows)');
        inputs = parsed as Record<string, unknown>[];
      } else if (contentType === 'application/vnd.apache.arrow.file') {
        inputTable = readArrow(body);
        if (state.pipeline.model === 'ccfraud' && !isCcfraudTensorType(inputTable.schema.fields.find((f) => f.name === 'tensor')?.type)) {
          // Wallaroo checks Arrow inputs against the model's schema, float width included.
          return reply.code(400).send({ status: 400, error: 'schema mismatch: tensor must be fixed_size_list<float32>[29]' });
        }
        inputs = inputTable.toArray().map((row) => plainRow(row.toJSON() as Record<string, unknown>));
      } else {
        return reply.code(415).send({ status: 415, error: `unsupported content type ${contentType}` });
      }
    } catch (error) {
      return reply.code(400).send({ status: 400, error: `cannot read input: ${(error as Error).message}` });
    }
    const parsedAt = process.hrtime.bigint();
    let outputs: Record<string, unknown[]>[];
    try {
      outputs = inputs.map((row, index) => runModel(state.pipeline.model as ModelKind, row, index));
    } catch (error) {
      return reply.code(400).send({ status: 400, error: (error as Error).message });
    }
    const elapsed = [Number(parsedAt - started), Number(process.hrtime.bigint() - parsedAt)];
    const time = Date.now();
    const metadata = {
      last_model: JSON.stringify({ model_name: state.pipeline.model, model_sha: 'simulated' }),
      pipeline_version: state.version,
      elapsed,
      dropped: [],
      partition: `engine-sim-${state.deployId}`,
    };
    const rows = inputs.map((row, index) => {
      const input = state.pipeline.model === 'ccfraud' ? { in: { tensor: Array.from(row.tensor as ArrayLike<number>) } } : {};
      return { time, ...input, out: outputs[index], check_failures: [], metadata };
    });
    const answer = filterDataset(rows, request.query as Record<string, unknown>);
    const accept = mediaType(request.headers.accept);
    const wantsArrow = accept === 'application/vnd.apache.arrow.file' || ((accept === '' || accept === '*/*') && inputTable !== null);
    if (wantsArrow) {
      const table = recordsToTable(answer, { schema: ANSWER_TYPES[state.pipeline.model as ModelKind] });
      return reply.header('content-type', 'application/vnd.apache.arrow.file').send(Buffer.from(tableToIPC(table, 'file')));
    }
    if (accept !== '' && accept !== '*/*' && accept !== 'application/json') {
      return reply.code(406).send({ status: 406, error: `cannot answer in ${accept}` });
    }
    // A Buffer, so the header goes out exactly as Wallaroo writes it (no charset added).
    return reply.header('content-type', 'application/json; format=pandas-records').send(Buffer.from(JSON.stringify(answer)));
  });

  await app.listen({ host: options.host ?? '127.0.0.1', port: options.port ?? 0 });
  const address = app.server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  control.baseUrl = `http://${host}:${address.port}`;
  return { url: control.baseUrl, control, app, close: () => app.close() };
}
