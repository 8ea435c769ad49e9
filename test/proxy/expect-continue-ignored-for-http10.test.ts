import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ccfraudBody } from '../helpers/data.ts';
import { simulatorConfig, startGateway } from '../helpers/gateway.ts';
import { rawExchange, statusOf } from '../helpers/raw-http.ts';
import { useSimulator } from '../helpers/simulator.ts';

// An HTTP/1.0 client cannot take an interim answer: RFC 9110 10.1.1 has the server ignore its Expect header, so
// it gets its answer, never a `100 Continue` first.
test('Expect: 100-continue from an HTTP/1.0 client is ignored: no 100 Continue, just the answer', async (t) => {
  const simulator = await useSimulator(t);
  const gw = await startGateway(t, simulatorConfig(simulator, { pipelines: [{ name: 'ccfraud', workspace: 'demo' }] }));
  const body = ccfraudBody();
  const head = `POST /pipelines/ccfraud/infer HTTP/1.0\r\nHost: gw\r\nContent-Type: application/json\r\nExpect: 100-continue\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n`;
  const answer = await rawExchange(gw.url, [head + body], { waitMs: 10_000, untilAnswer: true });
  assert.ok(!answer.text.includes('100 Continue'), answer.text.slice(0, 200));
  assert.equal(statusOf(answer.text), 200, answer.text.slice(0, 300));
});
