import assert from 'node:assert/strict';
import { test } from 'node:test';
import { simulatorConfig, startGateway } from '../helpers/gateway.ts';
import { infer } from '../helpers/http.ts';
import { assertRefusedResponsively, watchGateway } from '../helpers/responsiveness.ts';
import { useSimulator } from '../helpers/simulator.ts';

// Review finding: 2,000,000 `{}` rows (6 MB, inside every byte budget and under conversion.maxJsonContainers)
// blocked the event loop for about 5 s on their way to Arrow: V8 builds empty objects some forty times slower
// than as many bytes of numbers. Arrays and objects are held to one per 8 bytes of body (the densest honest row,
// `{"a":1},`), counted by the scan before JSON.parse.
test('2,000,000 empty JSON rows bound for Arrow are refused with 413 before they are parsed; the gateway stays responsive', async (t) => {
  const body = Buffer.from(`[${'{},'.repeat(1_999_999)}{}]`);
  assert.equal(body.length, 6_000_001);
  const simulator = await useSimulator(t);
  const bodyLimit = 8 * 1024 * 1024;
  const gw = await startGateway(t, simulatorConfig(simulator, {
    server: { host: '127.0.0.1', port: 0, bodyLimit, maxEventLoopDelayMs: 0 },
    // The honest 750,000 rows below take the simulator 10-26 s to score on a loaded CI machine: a deadline of
    // 100 s (under the test timeout) keeps this test about the conversion bound, not about the machine's speed.
    pipelines: [{ name: 'summary', workspace: 'demo', upstreamFormat: 'arrow', timeoutMs: 100_000 }],
  }));

  const watched = await watchGateway(gw.url, () => infer(gw.url, 'summary', body));
  assertRefusedResponsively(watched, { statusCode: 413, code: 'GW_BODY_TOO_COMPLEX', message: 'the JSON holds more than 815536 arrays and objects (a 6000001-byte body may hold one per 8 bytes, at most conversion.maxJsonContainers = 4194304)' }, body.length, bodyLimit);
  assert.equal(simulator.control.counts.inference, 0, 'nothing reached Wallaroo');

  // The densest honest rows, one column of one digit, still convert at the same size.
  const honest = `[${'{"a":1},'.repeat(749_999)}{"a":1}]`;
  assert.equal((await infer(gw.url, 'summary', honest, {}, '?dataset[]=out')).status, 200);
});
