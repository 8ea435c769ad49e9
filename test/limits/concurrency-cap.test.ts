import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ccfraudBody } from '../helpers/data.ts';
import { simulatorConfig, startGateway } from '../helpers/gateway.ts';
import { infer } from '../helpers/http.ts';
import { pipelineStatus } from '../helpers/pipelines.ts';
import { useSimulator } from '../helpers/simulator.ts';
import { waitFor } from '../helpers/wait.ts';

test('maxConcurrency with a bounded queue: overflow is 503 GW_OVERLOADED with Retry-After, the rest are served', async (t) => {
  const simulator = await useSimulator(t);
  const gw = await startGateway(t, simulatorConfig(simulator, { pipelines: [{ name: 'ccfraud', workspace: 'demo', maxConcurrency: 2, maxQueue: 1 }] }));
  assert.equal((await infer(gw.url, 'ccfraud', ccfraudBody())).status, 200); // warm: token and URL
  simulator.control.latencyMs = 2_000;
  const settled: number[] = [];
  const pending = Array.from({ length: 5 }, () => infer(gw.url, 'ccfraud', ccfraudBody()).then((answer) => {
    settled.push(answer.status);
    return answer;
  }));
  // Two reach Wallaroo, one waits in the queue, two are refused at once (while the others are still out).
  await waitFor(() => simulator.control.counts.inference === 3 && settled.length === 2, 'two in flight and two refused');
  assert.deepEqual(settled, [503, 503]);
  const status = await pipelineStatus(gw.url, 'ccfraud');
  assert.equal(status.inflight, 3, 'two in flight and one queued');
  assert.equal(status.queued, 1);
  const answers = await Promise.all(pending);
  assert.deepEqual(answers.map((a) => a.status).sort(), [200, 200, 200, 503, 503]);
  const overloaded = answers.find((a) => a.status === 503)!;
  assert.equal(overloaded.json<{ code: string }>().code, 'GW_OVERLOADED');
  assert.equal(overloaded.headers['retry-after'], '1');
  assert.equal(simulator.control.counts.inference, 4);
});
