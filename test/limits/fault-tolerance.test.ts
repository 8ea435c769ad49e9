import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';
import { request } from 'undici';
import type { Simulator } from '../../src/simulator/server.ts';
import { ERROR_CATALOG } from '../../src/errors.ts';
import { ccfraudBody } from '../helpers/data.ts';
import { simulatorConfig, startGateway } from '../helpers/gateway.ts';
import { freeRestartablePort } from '../helpers/ports.ts';
import { startTestSimulator } from '../helpers/simulator.ts';
import { waitFor } from '../helpers/wait.ts';

const TIMEOUT_MS = 800;

interface Outcome {
  status: number;
  code: string | null;
  ms: number;
  upstreamStatus: string | undefined;
}

test('under steady load: 5xx, latency, token endpoint down, Wallaroo restarting — every request answered, none hung, then recovery', async (t) => {
  // The simulator restarts on the same ports: below the ephemeral range, where nothing else takes them meanwhile.
  const port = await freeRestartablePort();
  const keycloakPort = await freeRestartablePort(); // used where the version has a Keycloak host of its own
  let simulator: Simulator = await startTestSimulator({ port, keycloakPort });
  t.after(() => simulator.close());
  const gw = await startGateway(t, simulatorConfig(simulator, {
    pipelines: [{ name: 'ccfraud', workspace: 'demo', timeoutMs: TIMEOUT_MS, circuitBreaker: { failureThreshold: 5, cooldownMs: 300 } }],
    logging: { level: 'warn' },
  }));

  const outcomes: Outcome[] = [];
  let running = true;
  const worker = async () => {
    for (let i = 0; i < 20_000 && running; i++) {
      const started = Date.now();
      try {
        const response = await request(`${gw.url}/pipelines/ccfraud/infer`, {
          method: 'POST', headers: { 'content-type': 'application/json' }, body: ccfraudBody(), headersTimeout: 15_000, bodyTimeout: 15_000,
        });
        const text = await response.body.text();
        let code: string | null = null;
        try {
          const parsed = JSON.parse(text) as { code?: unknown };
          code = !Array.isArray(parsed) && typeof parsed.code === 'string' ? parsed.code : null;
        } catch {
          code = null;
        }
        const upstream = response.headers['x-gateway-upstream-status'];
        outcomes.push({ status: response.statusCode, code, ms: Date.now() - started, upstreamStatus: Array.isArray(upstream) ? upstream[0] : upstream });
      } catch (error) {
        outcomes.push({ status: 0, code: `client error ${(error as Error).message}`, ms: Date.now() - started, upstreamStatus: undefined });
      }
      await sleep(5); // paces the load: a condition of the test, not a wait for something
    }
  };
  const workers = Array.from({ length: 6 }, worker);

  const phases: Array<[string, number]> = [];
  const mark = (name: string) => phases.push([name, outcomes.length]);
  // Each phase runs at least its minimum time and, on a slow machine, until its effect shows (bounded), so a
  // phase never overlaps the previous one's circuit-breaker cool-down.
  const until = async (minMs: number, maxMs: number, seen: (outcome: Outcome) => boolean) => {
    const from = outcomes.length;
    await sleep(minMs); // the phase's minimum length under its fault: a condition, not synchronisation
    // Bounded poll on the outcomes (no event exists); a phase whose effect never shows fails the checks below.
    await waitFor(() => outcomes.slice(from).some(seen), 'the phase to show its effect', Math.max(1, maxMs - minMs), 50).catch(() => undefined);
  };
  await until(400, 5_000, (o) => o.status === 200);
  mark('5xx');
  simulator.control.failInference(12, { status: 500 });
  await until(500, 5_000, (o) => o.upstreamStatus === '500');
  mark('latency');
  simulator.control.latencyMs = TIMEOUT_MS * 2;
  await until(600, 5_000, (o) => o.code === 'GW_UPSTREAM_TIMEOUT');
  simulator.control.latencyMs = 0;
  await until(0, 5_000, (o) => o.status === 200); // the breaker has closed again
  mark('token endpoint down');
  simulator.control.tokenEndpointDown = true;
  simulator.control.revokeAllTokens();
  await until(700, 5_000, (o) => o.code === 'GW_TOKEN_UNAVAILABLE');
  simulator.control.tokenEndpointDown = false;
  mark('restart');
  await simulator.close();
  await sleep(300); // Wallaroo stays down a while: a condition, not synchronisation
  simulator = await startTestSimulator({ port, keycloakPort }); // same URLs, new signing keys: every held token is now refused
  mark('recovery');
  // Recovery comes on the token endpoint's backoff schedule (at most its 30 s cap), then every request succeeds.
  await until(0, 35_000, (o) => o.status === 200);
  // A first success can be the breaker's half-open probe, and on a loaded machine it may open once more while the
  // new simulator's keys replace the old: recovered means ten successes in a row (bounded).
  await waitFor(() => outcomes.length >= 10 && outcomes.slice(-10).every((o) => o.status === 200), 'ten successes in a row', 35_000, 20).catch(() => undefined);
  const recoveredAt = outcomes.length;
  await waitFor(() => outcomes.length >= recoveredAt + 40, '40 requests after recovery', 30_000, 20);
  running = false;
  await Promise.all(workers);

  assert.ok(outcomes.length > 100, `steady load (${outcomes.length} requests)`);
  for (const outcome of outcomes) {
    const coded = outcome.code !== null && outcome.code in ERROR_CATALOG;
    const passedThrough = outcome.upstreamStatus !== undefined; // Wallaroo's own error, marked as such
    assert.ok(outcome.status === 200 || coded || passedThrough, `uncoded answer: ${JSON.stringify(outcome)}`);
    assert.ok(outcome.ms < TIMEOUT_MS + 3_000, `hung for ${outcome.ms} ms: ${JSON.stringify(outcome)}`);
  }
  const codes = new Set(outcomes.map((o) => o.code).filter(Boolean));
  for (const expected of ['GW_UPSTREAM_TIMEOUT', 'GW_TOKEN_UNAVAILABLE']) assert.ok(codes.has(expected), `${expected} seen (${[...codes].join(', ')})`);
  assert.ok(outcomes.some((o) => o.upstreamStatus === '500'), 'injected 5xx passed through');

  // Recovered: the last stretch is all successes.
  const tail = outcomes.slice(-30);
  assert.deepEqual(tail.filter((o) => o.status !== 200), [], `recovered by the end (phases ${JSON.stringify(phases)})`);
  const after = await request(`${gw.url}/pipelines/ccfraud/infer`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: ccfraudBody() });
  assert.equal(after.statusCode, 200);
  await after.body.dump();
});
