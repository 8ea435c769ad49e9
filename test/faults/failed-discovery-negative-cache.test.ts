import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ccfraudBody } from '../helpers/data.ts';
import { simulatorConfig, startGateway } from '../helpers/gateway.ts';
import { infer } from '../helpers/http.ts';
import { useSimulator } from '../helpers/simulator.ts';

test('50 requests for a pipeline Wallaroo does not know cost one lookup, not 50: the failure is remembered for negativeTtlSeconds', async (t) => {
  const simulator = await useSimulator(t);
  const gw = await startGateway(t, simulatorConfig(simulator, { pipelines: [{ name: 'ghost', workspace: 'no-such-workspace' }] }));
  for (let wave = 0; wave < 5; wave++) {
    const answers = await Promise.all(Array.from({ length: 10 }, () => infer(gw.url, 'ghost', ccfraudBody())));
    for (const answer of answers) {
      assert.equal(answer.status, 502);
      assert.deepEqual(answer.json(), { statusCode: 502, code: 'GW_DISCOVERY_FAILED', error: 'Bad Gateway', message: 'workspace "no-such-workspace" not found for pipeline ghost' });
    }
  }
  assert.equal(simulator.control.counts.mlops, 1, 'one workspaces/list for all fifty');
  const metric = await gw.registry.getSingleMetric('wallaroo_gateway_discovery_cache_total')!.get();
  const negative = metric.values.find((v) => v.labels.result === 'negative')?.value ?? 0;
  assert.ok(negative >= 40, `remembered failures answered ${negative} requests`);
});
