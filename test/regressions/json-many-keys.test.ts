import assert from 'node:assert/strict';
import { test } from 'node:test';
import { simulatorConfig, startGateway } from '../helpers/gateway.ts';
import { infer } from '../helpers/http.ts';
import { manyKeysJson } from '../helpers/hostile-bodies.ts';
import { assertRefusedResponsively, watchGateway } from '../helpers/responsiveness.ts';
import { useSimulator } from '../helpers/simulator.ts';

// Issue 15, F4: a 2.3 MB JSON row with 200,000 keys stalled the loop for 63 s on its way to Arrow. V8 alone
// parses such an object some twenty times slower than as many bytes of numbers, so keys per object are counted
// by the scan before JSON.parse, and capped at conversion.maxColumns like the columns they would become.
test('a JSON row of 200,000 keys bound for Arrow is refused with 413 before it is parsed', async (t) => {
  const simulator = await useSimulator(t);
  const bodyLimit = 8 * 1024 * 1024;
  const gw = await startGateway(t, simulatorConfig(simulator, {
    server: { host: '127.0.0.1', port: 0, bodyLimit, maxEventLoopDelayMs: 0 },
    pipelines: [{ name: 'summary', workspace: 'demo', upstreamFormat: 'arrow' }],
  }));
  const body = Buffer.from(manyKeysJson(200_000));
  assert.ok(body.length > 2_250_000 && body.length < 2_350_000, `${body.length} bytes`);

  const watched = await watchGateway(gw.url, () => infer(gw.url, 'summary', body));
  assertRefusedResponsively(watched, { statusCode: 413, code: 'GW_BODY_TOO_COMPLEX', message: 'the JSON has an object of more than 1000 keys (conversion.maxColumns)' }, body.length, bodyLimit);
  assert.equal(simulator.control.counts.inference, 0, 'nothing reached Wallaroo');

  // At the cap a row converts; columns across rows and fields of nested objects count together.
  assert.equal((await infer(gw.url, 'summary', manyKeysJson(1_000))).status, 200);
  const nested = await infer(gw.url, 'summary', `[{"x":${manyKeysJson(1_000).slice(1, -1)}}]`);
  assert.equal(nested.status, 413, nested.text);
  // 1,001 names in all: refused by the scan's count of distinct names, before JSON.parse.
  assert.equal(nested.json<{ message: string }>().message, 'the JSON names more than 1000 distinct keys (conversion.maxColumns; nested fields count)');
});
