import assert from 'node:assert/strict';
import { test } from 'node:test';
import { simulatorConfig, startGateway } from '../helpers/gateway.ts';
import { ARROW_FILE, infer } from '../helpers/http.ts';
import { nullListArrow } from '../helpers/hostile-bodies.ts';
import { assertRefusedResponsively, watchGateway } from '../helpers/responsiveness.ts';
import { useSimulator } from '../helpers/simulator.ts';

// Issue 15, F1: 402 bytes of Arrow (a List<Null> of 2^31-1 nulls: Null children carry no buffers, so every
// length check passed) blocked the loop for 60 s and took RSS to 6.2 GB on its way to JSON for Wallaroo.
test('a 402-byte Arrow list of 2^31-1 nulls bound for a JSON pipeline is refused with 413 before it is expanded', async (t) => {
  const simulator = await useSimulator(t);
  const bodyLimit = 8 * 1024 * 1024;
  const gw = await startGateway(t, simulatorConfig(simulator, {
    server: { host: '127.0.0.1', port: 0, bodyLimit, maxEventLoopDelayMs: 0 },
    pipelines: [{ name: 'ccjson', workspace: 'demo', pipeline: 'ccfraud', upstreamFormat: 'json' }],
  }));
  const body = nullListArrow();
  assert.equal(body.byteLength, 402);
  const seenBefore = simulator.control.seen.length;

  const watched = await watchGateway(gw.url, () => infer(gw.url, 'ccjson', Buffer.from(body), { 'content-type': ARROW_FILE }));
  assertRefusedResponsively(watched, { statusCode: 413, code: 'GW_BODY_TOO_COMPLEX', message: 'column "tensor.item" would take the body past 68752 values (a 402-byte body may hold 8 per byte, at most conversion.maxElements = 33554432)' }, body.byteLength, bodyLimit);
  assert.equal(simulator.control.seen.length, seenBefore, 'nothing reached Wallaroo');
});
