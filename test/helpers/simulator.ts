import type { TestContext } from 'node:test';
import { type Simulator, type SimulatorOptions, startSimulator } from '../../src/simulator/server.ts';

/** A simulator on 127.0.0.1:0, closed when the test ends. */
export async function useSimulator(t: TestContext, options: SimulatorOptions = {}): Promise<Simulator> {
  const simulator = await startSimulator(options);
  t.after(() => simulator.close());
  return simulator;
}
