import assert from 'node:assert/strict';
import { test } from 'node:test';
import { simulatorConfig, startGateway } from '../helpers/gateway.ts';
import { infer } from '../helpers/http.ts';
import { assertRefusedResponsively, watchGateway } from '../helpers/responsiveness.ts';
import { useSimulator } from '../helpers/simulator.ts';

// Review finding: rows of one key each, every key a new name (`[{"k0":1},{"k1":1},...]`), pass the per-object key
// count and the container share, but V8 gives every new name a new object shape: 50 MB blocked the event loop 19 s
// and took 1.1 GB before the column check after JSON.parse refused them. Every name becomes a column, so more than
// conversion.maxColumns distinct names is refused by the scan before JSON.parse.
test('JSON rows naming 500,000 distinct keys bound for Arrow are refused with 413 before they are parsed; the gateway stays responsive', async (t) => {
  const rows = Array.from({ length: 500_000 }, (_, i) => `{"k${i.toString(36)}":1}`);
  const body = Buffer.from(`[${rows.join(',')}]`);
  const simulator = await useSimulator(t);
  const bodyLimit = 8 * 1024 * 1024;
  const gw = await startGateway(t, simulatorConfig(simulator, {
    server: { host: '127.0.0.1', port: 0, bodyLimit, maxEventLoopDelayMs: 0 },
    pipelines: [{ name: 'summary', workspace: 'demo', upstreamFormat: 'arrow' }],
  }));

  const watched = await watchGateway(gw.url, () => infer(gw.url, 'summary', body));
  assertRefusedResponsively(watched, { statusCode: 413, code: 'GW_BODY_TOO_COMPLEX', message: 'the JSON names more than 1000 distinct keys (conversion.maxColumns; nested fields count)' }, body.length, bodyLimit);
  assert.equal(simulator.control.counts.inference, 0, 'nothing reached Wallaroo');

  // Many rows naming the same columns (the shape of real data) still convert.
  const row = `{${Array.from({ length: 20 }, (_, i) => `"k${i}":${i}`).join(',')}}`;
  const honest = `[${Array.from({ length: 20_000 }, () => row).join(',')}]`;
  assert.equal((await infer(gw.url, 'summary', honest, {}, '?dataset[]=out')).status, 200);
});
