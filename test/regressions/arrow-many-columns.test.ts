import assert from 'node:assert/strict';
import { test } from 'node:test';
import { simulatorConfig, startGateway } from '../helpers/gateway.ts';
import { ARROW_STREAM, infer } from '../helpers/http.ts';
import { manyColumnsArrowStream } from '../helpers/hostile-bodies.ts';
import { assertRefusedResponsively, watchGateway } from '../helpers/responsiveness.ts';
import { useSimulator } from '../helpers/simulator.ts';

// Issue 15, F4: column counts were not capped and apache-arrow's Schema.assign is quadratic in them: a 4.5 MB
// Arrow stream to a default passthrough pipeline (read to become the file format Wallaroo takes) stalled the
// loop for seconds. The schema's field count is now read from its flatbuffer and capped before apache-arrow
// decodes anything.
test('an Arrow stream of 67,000 columns is refused with 413 before apache-arrow decodes its schema', async (t) => {
  const simulator = await useSimulator(t);
  const bodyLimit = 8 * 1024 * 1024;
  const gw = await startGateway(t, simulatorConfig(simulator, { server: { host: '127.0.0.1', port: 0, bodyLimit, maxEventLoopDelayMs: 0 } }));
  const body = manyColumnsArrowStream(67_000);
  assert.ok(body.length > 4_500_000 && body.length < 4_600_000, `${body.length} bytes`);

  const watched = await watchGateway(gw.url, () => infer(gw.url, 'ccfraud', body, { 'content-type': ARROW_STREAM }));
  assertRefusedResponsively(watched, { statusCode: 413, code: 'GW_BODY_TOO_COMPLEX', message: 'the Arrow IPC body has more than 1000 columns (conversion.maxColumns; nested fields count)' }, body.length, bodyLimit);
  assert.equal(simulator.control.counts.inference, 0, 'nothing reached Wallaroo');

  // At the cap, the same shape is read and converted.
  const atCap = await infer(gw.url, 'summary', manyColumnsArrowStream(1_000), { 'content-type': ARROW_STREAM });
  assert.equal(atCap.status, 200, atCap.text.slice(0, 300));
});
