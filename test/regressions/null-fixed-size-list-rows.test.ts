import assert from 'node:assert/strict';
import { test } from 'node:test';
import { simulatorConfig, startGateway } from '../helpers/gateway.ts';
import { infer } from '../helpers/http.ts';
import { assertRefusedResponsively, watchGateway } from '../helpers/responsiveness.ts';
import { useSimulator } from '../helpers/simulator.ts';

// Issue 15, F3: each `{"tensor": null}` row became a whole fixed_size_list<float32>[150528] of Arrow: 32 KB of
// JSON turned into 1.2 GB sent to Wallaroo (2.4 GB RSS). Null rows now count at full size, before allocation.
test('null rows of a large fixed-size list count at full size: 32 KB of {"tensor": null} is refused with 413', async (t) => {
  const simulator = await useSimulator(t);
  const bodyLimit = 8 * 1024 * 1024;
  const gw = await startGateway(t, simulatorConfig(simulator, {
    server: { host: '127.0.0.1', port: 0, bodyLimit, maxEventLoopDelayMs: 0 },
    pipelines: [{ name: 'summary', workspace: 'demo', upstreamFormat: 'arrow', inputSchema: { tensor: 'fixed_size_list<float32>[150528]' } }],
  }));
  const rows = 2048;
  const body = Buffer.from(JSON.stringify(Array.from({ length: rows }, () => ({ tensor: null }))));
  assert.equal(body.length, 32_769);

  const watched = await watchGateway(gw.url, () => infer(gw.url, 'summary', body));
  assertRefusedResponsively(watched, { statusCode: 413, code: 'GW_BODY_TOO_COMPLEX', message: `column "tensor" (2048 lists of 150528, null ones included) would take the body past ${65_536 + 8 * body.length} values (a ${body.length}-byte body may hold 8 per byte, at most conversion.maxElements = 33554432)` }, body.length, bodyLimit);
  assert.equal(simulator.control.counts.inference, 0, 'nothing reached Wallaroo');

  // One honest image-sized row converts and is answered.
  const honest = await infer(gw.url, 'summary', JSON.stringify([{ tensor: Array.from({ length: 150_528 }, (_, i) => (i % 256) / 255) }]));
  assert.equal(honest.status, 200, honest.text.slice(0, 300));
});
