import assert from 'node:assert/strict';
import { test } from 'node:test';
import { simulatorConfig, startGateway } from '../helpers/gateway.ts';
import { ARROW_FILE, infer } from '../helpers/http.ts';
import { dictionaryExpansionArrow } from '../helpers/hostile-bodies.ts';
import { assertRefusedResponsively, watchGateway } from '../helpers/responsiveness.ts';
import { useSimulator } from '../helpers/simulator.ts';

// Issue 15, F1: dictionary columns expand like null lists: one 64 KiB entry repeated by a million one-byte
// indices is a 1 MB body standing for 64 GB of JSON.
test('a dictionary column whose entry is repeated into gigabytes of JSON is refused with 413 before it is written', async (t) => {
  const simulator = await useSimulator(t);
  const bodyLimit = 8 * 1024 * 1024;
  const gw = await startGateway(t, simulatorConfig(simulator, {
    server: { host: '127.0.0.1', port: 0, bodyLimit, maxEventLoopDelayMs: 0 },
    pipelines: [{ name: 'summary', workspace: 'demo', upstreamFormat: 'json' }],
  }));
  const body = Buffer.from(dictionaryExpansionArrow(64 * 1024, 1_000_000));
  const seenBefore = simulator.control.seen.length;

  const watched = await watchGateway(gw.url, () => infer(gw.url, 'summary', body, { 'content-type': ARROW_FILE }));
  const limit = 1024 * 1024 + 16 * body.byteLength;
  assertRefusedResponsively(watched, { statusCode: 413, code: 'GW_BODY_TOO_COMPLEX', message: `the JSON text would write more than ${limit} bytes (a ${body.byteLength}-byte body may produce 16 per byte, at most conversion.maxOutputBytes = 268435456)` }, body.byteLength, bodyLimit);
  assert.equal(simulator.control.seen.length, seenBefore, 'nothing reached Wallaroo');

  // The same column with a short entry is honest data, and converts.
  const honest = await infer(gw.url, 'summary', Buffer.from(dictionaryExpansionArrow(3, 1_000)), { 'content-type': ARROW_FILE });
  assert.equal(honest.status, 200, honest.text);
  assert.equal(simulator.control.seen.at(-1)!.bodyBytes, Buffer.byteLength(JSON.stringify(Array.from({ length: 1_000 }, () => ({ label: 'xxx' })))));
});
