import assert from 'node:assert/strict';
import { test } from 'node:test';
import { simulatorConfig, startGateway } from '../helpers/gateway.ts';
import { jsonBodyOf, rawExchange, statusOf } from '../helpers/raw-http.ts';
import { useSimulator } from '../helpers/simulator.ts';

// A caller sending `Expect: 100-continue` to a route or pipeline the gateway does not have gets the 404 at once, without being
// invited to send a body nothing will read (the connection then closes, so the unsent body is never a request).
test('Expect: 100-continue to an unknown route or pipeline is answered 404 without a 100 Continue', async (t) => {
  const simulator = await useSimulator(t);
  const gw = await startGateway(t, simulatorConfig(simulator, { pipelines: [{ name: 'ccfraud', workspace: 'demo' }] }));
  const refusals = [
    { path: '/pipelines/nope/infer', code: 'GW_PIPELINE_NOT_FOUND', message: 'no pipeline named "nope" is configured' },
    { path: '/no/such/route', code: 'GW_ROUTE_NOT_FOUND', message: 'no route POST /no/such/route' },
  ];
  for (const { path, code, message } of refusals) {
    const head = `POST ${path} HTTP/1.1\r\nHost: gw\r\nContent-Type: application/json\r\nExpect: 100-continue\r\nContent-Length: 100000\r\n\r\n`;
    const answer = await rawExchange(gw.url, [head], { waitMs: 10_000, untilAnswer: true });
    assert.equal(statusOf(answer.text), 404, `${path}: ${answer.text.slice(0, 200)}`);
    assert.ok(!answer.text.includes('100 Continue'), `${path}: no invitation to send the body`);
    assert.match(answer.text, /\r\nconnection: close\r\n/i);
    assert.deepEqual(jsonBodyOf(answer.text), {
      statusCode: 404, code, error: 'Not Found', message,
    });
  }
  assert.equal(simulator.control.counts.inference, 0, 'nothing reached Wallaroo');
});
