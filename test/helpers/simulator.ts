import type { TestContext } from 'node:test';
import {
  DEFAULT_CLIENT_SECRET, DEFAULT_USER, DEFAULT_WALLAROO_VERSION, isWallarooVersion, type Simulator, type SimulatorOptions, startSimulator,
  WALLAROO_VERSIONS, type WallarooVersion,
} from '../../src/simulator/server.ts';
import { call } from './http.ts';

/** The Wallaroo version the suite runs against: WALLAROO_SIM_VERSION, default 2025. */
export function simulatorVersion(env: NodeJS.ProcessEnv = process.env): WallarooVersion {
  const wanted = env.WALLAROO_SIM_VERSION;
  if (wanted === undefined || wanted === '') return DEFAULT_WALLAROO_VERSION;
  if (!isWallarooVersion(wanted)) throw new Error(`WALLAROO_SIM_VERSION=${wanted}: not a modelled Wallaroo version (${WALLAROO_VERSIONS.join(', ')})`);
  return wanted;
}

/** A simulator of the suite's Wallaroo version (unless the test names one) on 127.0.0.1:0. */
export function startTestSimulator(options: SimulatorOptions = {}): Promise<Simulator> {
  return startSimulator({ version: simulatorVersion(), ...options });
}

/** A simulator on 127.0.0.1:0, closed when the test ends. */
export async function useSimulator(t: TestContext, options: SimulatorOptions = {}): Promise<Simulator> {
  const simulator = await startTestSimulator(options);
  t.after(() => simulator.close());
  return simulator;
}

const FORM = { 'content-type': 'application/x-www-form-urlencoded' };

/**
 * A bearer token straight from a simulator: the confidential client's service account (client_credentials,
 * for inference) or the default user's (password grant with `sdk-client`, for the MLOps API).
 */
export async function simulatorToken(simulator: Simulator, kind: 'service-account' | 'user'): Promise<string> {
  const form = kind === 'service-account' ? 'grant_type=client_credentials' : `grant_type=password&client_id=sdk-client&username=${DEFAULT_USER.username}&password=${DEFAULT_USER.password}`;
  const headers = kind === 'service-account' ? { ...FORM, authorization: `Basic ${Buffer.from(`api-client:${DEFAULT_CLIENT_SECRET}`).toString('base64')}` } : FORM;
  const answer = await call(simulator.tokenUrl, { method: 'POST', headers, body: form });
  if (answer.status !== 200) throw new Error(`simulator token: ${answer.status} ${answer.text}`);
  return `Bearer ${answer.json<{ access_token: string }>().access_token}`;
}
