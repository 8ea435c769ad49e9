import type { TestContext } from 'node:test';
import {
  DEFAULT_WALLAROO_VERSION, isWallarooVersion, type Simulator, type SimulatorOptions, startSimulator, WALLAROO_VERSIONS, type WallarooVersion,
} from '../../src/simulator/server.ts';

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
