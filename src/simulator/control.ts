// The simulator's state and the handle tests steer it with: deployments (stable deploy ids, undeploy, a
// pipeline still activating, a recreated deployment at a new URL), latency, faults, counters, and events
// tests wait on instead of sleeping.
import { EventEmitter, on } from 'node:events';
import { randomUUID } from 'node:crypto';
import { DEFAULT_ENGINE_COST, type EngineCostModel, EngineQueue } from './engine.ts';
import { JwtSigner } from './jwt.ts';
import type { ModelKind } from './models.ts';
import type { VersionProfile } from './versions/index.ts';

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

export interface PipelineState {
  workspace: SimulatedWorkspace;
  pipeline: SimulatedPipeline;
  /** The pipeline's id in the MLOps API (what workspaces/list lists). */
  id: number;
  /** The number in the inference URL: kept across undeploy/deploy, changed only by recreate(). */
  deployId: number;
  deployed: boolean;
  /** Until this time (ms since epoch) a deployed pipeline answers 503 while it activates. */
  activeFrom: number;
  version: string;
}

export interface InjectedFault {
  status: number;
  headers?: Record<string, string>;
  body?: string;
}

/** What the simulator saw of an inference request, so tests can check what the gateway forwarded. */
export interface SeenRequest {
  method: string;
  url: string;
  headers: Record<string, string | string[] | undefined>;
  bodyBytes: number;
}

/** Events tests can wait for with `control.waitFor(name)`; each carries what it is about. */
export interface SimulatorEvents {
  'token-requested': { grant: string };
  'token-issued': { grant: string; clientId: string; expiresIn: number };
  'mlops-request': { command: string };
  'inference-received': { pipeline: string; url: string };
  /** A native inference call's input was read: how many rows it holds. */
  'inference-rows': { pipeline: string; rows: number };
  'inference-answered': { pipeline: string; status: number };
  'stream-chunk': { pipeline: string; index: number };
  'caller-aborted': { pipeline: string };
}
export type SimulatorEventName = keyof SimulatorEvents;

export interface SimulatorSettings {
  profile: VersionProfile;
  clients: Record<string, string>;
  users: Record<string, string>;
  workspaces: SimulatedWorkspace[];
  tokenLifetimeSeconds: number | null;
  refreshLifetimeSeconds: number | null;
  mlopsAcceptsServiceAccountTokens: boolean;
}

export class SimulatorControl {
  readonly profile: VersionProfile;
  readonly clients: Record<string, string>;
  readonly users: Record<string, string>;
  /** Overrides every access token's lifetime (seconds); null: the version's recorded lifetimes. */
  tokenLifetimeSeconds: number | null;
  refreshLifetimeSeconds: number | null;
  mlopsAcceptsServiceAccountTokens: boolean;
  latencyMs = 0;
  /** The engine's cost model (engine.ts); null: inference costs no simulated time. */
  engine: EngineQueue | null = null;
  /**
   * Answers keep at most this many rows (a pipeline that filters rows, so the answer has fewer rows than the
   * input); null: one answer row per input row.
   */
  answerRowLimit: number | null = null;
  tokenLatencyMs = 0;
  /** Delay between signing a token and sending it: a token on the wire while the realm's keys rotate. */
  tokenDeliveryDelayMs = 0;
  tokenEndpointDown = false;
  /** Delay before each streamed OpenAI chunk. */
  streamTokenDelayMs = 10;
  /** Drop the connection after this many streamed chunks (a mid-stream failure); null: never. */
  streamFailAfterTokens: number | null = null;
  readonly counts = { token: 0, tokenByGrant: {} as Record<string, number>, mlops: 0, inference: 0, abortedByCaller: 0, inferenceRows: 0 };
  readonly inferenceFaults: InjectedFault[] = [];
  readonly tokenFaults: InjectedFault[] = [];
  readonly seen: SeenRequest[] = [];
  /** Every access and refresh token issued, so tests can check none of them leaks anywhere. */
  readonly issuedTokens: string[] = [];
  readonly pipelines = new Map<string, PipelineState>();
  readonly signer = new JwtSigner();
  readonly events = new EventEmitter();
  /** The API and inference host (`{prefix}.api.{suffix}` in versions with a separate Keycloak host). */
  baseUrl = '';
  keycloakUrl = '';

  constructor(settings: SimulatorSettings) {
    this.profile = settings.profile;
    this.clients = settings.clients;
    this.users = settings.users;
    this.tokenLifetimeSeconds = settings.tokenLifetimeSeconds;
    this.refreshLifetimeSeconds = settings.refreshLifetimeSeconds;
    this.mlopsAcceptsServiceAccountTokens = settings.mlopsAcceptsServiceAccountTokens;
    this.events.setMaxListeners(100);
    let id = 1;
    let deployId = 260;
    for (const workspace of settings.workspaces) {
      // OpenAI-compatible pipelines exist only in versions with OpenAI endpoints.
      const pipelines = workspace.pipelines.filter((p) => p.model !== 'openai' || this.profile.openAi);
      const kept = { ...workspace, pipelines };
      for (const pipeline of pipelines) {
        this.pipelines.set(pipeline.name, { workspace: kept, pipeline, id: id++, deployId: deployId++, deployed: pipeline.deployed ?? true, activeFrom: 0, version: randomUUID() });
      }
    }
  }

  /** While set, admitted inference calls wait for it before the engine runs (holdInference). */
  inferenceHold: Promise<void> | null = null;

  /**
   * Holds every admitted inference call (each after its 'inference-received' event) until the returned function
   * is called: a call in flight for as long as a test needs one.
   */
  holdInference(): () => void {
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    this.inferenceHold = held;
    return () => {
      if (this.inferenceHold === held) this.inferenceHold = null;
      release();
    };
  }

  /** Turns the engine cost model on (null: off); any part not given keeps its default. */
  setEngineCost(cost: Partial<EngineCostModel> | null): void {
    this.engine = cost === null ? null : new EngineQueue({ ...DEFAULT_ENGINE_COST, ...cost });
  }

  emit<E extends SimulatorEventName>(event: E, payload: SimulatorEvents[E]): void {
    this.events.emit(event, payload);
  }

  /**
   * The next `event` (matching `accept`, if given), within `timeoutMs`. Call it before the action that causes
   * the event, then await it.
   */
  async waitFor<E extends SimulatorEventName>(event: E, accept: (payload: SimulatorEvents[E]) => boolean = () => true, timeoutMs = 10_000): Promise<SimulatorEvents[E]> {
    const signal = AbortSignal.timeout(timeoutMs);
    try {
      // An async iterator buffers events, so none is missed between two checks.
      for await (const [payload] of on(this.events, event, { signal })) {
        if (accept(payload as SimulatorEvents[E])) return payload as SimulatorEvents[E];
      }
    } catch (error) {
      if (!signal.aborted) throw error;
    }
    throw new Error(`simulator: no ${event} event within ${timeoutMs} ms`);
  }

  state(name: string): PipelineState {
    const state = this.pipelines.get(name);
    if (!state) throw new Error(`simulator has no pipeline ${name}`);
    return state;
  }

  inferenceUrl(name: string): string {
    const { deployId } = this.state(name);
    return `${this.baseUrl}/v1/api/pipelines/infer/${name}-${deployId}/${name}`;
  }

  get tokenUrl(): string {
    return `${this.keycloakUrl}/auth/realms/master/protocol/openid-connect/token`;
  }

  /** Undeployed: the same URL answers the version's "deployment not found" until deploy(). */
  undeploy(name: string): void {
    this.state(name).deployed = false;
  }

  /** Deployed again at the same URL (Wallaroo keeps the deploy id); 503 while it activates for `activatingForMs`. */
  deploy(name: string, options: { activatingForMs?: number } = {}): string {
    const state = this.state(name);
    state.deployed = true;
    state.activeFrom = Date.now() + (options.activatingForMs ?? 0);
    state.version = randomUUID();
    return this.inferenceUrl(name);
  }

  /** Ends an activation started by deploy() at once. */
  finishActivation(name: string): void {
    this.state(name).activeFrom = 0;
  }

  /** The pipeline deleted and created again: a new deploy id, so the old URL answers "not found" from now on. */
  recreate(name: string): string {
    const state = this.state(name);
    state.deployId += 1000;
    state.deployed = true;
    state.activeFrom = 0;
    state.version = randomUUID();
    return this.inferenceUrl(name);
  }

  /** Fail the next `count` inference calls with this answer (the version's error body unless one is given). */
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
