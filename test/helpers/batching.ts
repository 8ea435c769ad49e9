import type { TestContext } from 'node:test';
import type { Simulator } from '../../src/simulator/server.ts';
import { sample } from './data.ts';
import { type RawConfig, simulatorConfig, startGateway, type TestGateway } from './gateway.ts';
import { type Answer, infer } from './http.ts';
import { useSimulator } from './simulator.ts';

/** The first `count` rows of Wallaroo's ccfraud tutorial data (cc_data_1k.df.json), as parsed rows. */
export function tutorialRows(count: number, from = 0): Array<Record<string, unknown>> {
  const rows = JSON.parse(sample('cc_data_1k.df.json').toString('utf8')) as Array<Record<string, unknown>>;
  return rows.slice(from, from + count);
}

/** An answer's text without what differs between any two calls: each row's `time` and the engine's `elapsed`. */
export function withoutTimes(text: string): string {
  return text.replace(/"time":\d+/g, '"time":0').replace(/"elapsed":\[[\d,]*\]/g, '"elapsed":[]');
}

export interface BatchingSetup {
  simulator: Simulator;
  gateway: TestGateway;
  /** Rows per native inference call the simulator ran, in order. */
  callRows: number[];
}

/**
 * A simulator and a gateway with two routes to the simulator's ccfraud pipeline: `batched` (batching as given)
 * and `alone` (no batching: what a caller gets calling alone). `pipeline` adds settings to both.
 */
export async function batchingSetup(t: TestContext, batching: RawConfig, pipeline: RawConfig = {}, overrides: RawConfig = {}): Promise<BatchingSetup> {
  const simulator = await useSimulator(t);
  const gateway = await startGateway(t, simulatorConfig(simulator, {
    pipelines: [
      { name: 'batched', pipeline: 'ccfraud', workspace: 'demo', batching, ...pipeline },
      { name: 'alone', pipeline: 'ccfraud', workspace: 'demo', ...pipeline },
    ],
    ...overrides,
  }));
  const callRows: number[] = [];
  simulator.control.events.on('inference-rows', ({ rows }: { rows: number }) => callRows.push(rows));
  return { simulator, gateway, callRows };
}

/**
 * Holds the simulator's inference calls and puts one call on `pipeline` in flight (so later requests wait for a
 * batch instead of going alone). `release` lets every held call finish; `blocker` is the in-flight call's answer.
 */
export async function occupy(setup: BatchingSetup, pipeline = 'batched', body = JSON.stringify(tutorialRows(1, 900))): Promise<{ release: () => void; blocker: Promise<Answer> }> {
  const { control } = setup.simulator;
  const release = control.holdInference();
  const received = control.waitFor('inference-received');
  const blocker = infer(setup.gateway.url, pipeline, body);
  await received;
  return { release, blocker };
}
