import assert from 'node:assert/strict';
import { test } from 'node:test';
import { simulatorConfig, startGateway } from '../helpers/gateway.ts';
import { call } from '../helpers/http.ts';
import { rawExchange } from '../helpers/raw-http.ts';
import { useSimulator } from '../helpers/simulator.ts';

test('a caller dripping its headers gets 408 GW_REQUEST_TIMEOUT once server.headersTimeoutMs has passed, and the connection is closed', async (t) => {
  const simulator = await useSimulator(t);
  const gw = await startGateway(t, simulatorConfig(simulator, { server: { headersTimeoutMs: 1_000 } }));
  // One header line every 300 ms, never the blank line that ends the headers: the drip is the condition under test.
  const drip = ['POST /pipelines/ccfraud/infer HTTP/1.1\r\nHost: gw\r\n', ...Array.from({ length: 30 }, (_, i) => `x-drip-${i}: 1\r\n`)];
  const answer = await rawExchange(gw.url, drip, { waitMs: 15_000, gapMs: 300 });
  assert.match(answer.text, /^HTTP\/1\.1 408 Request Timeout\r\n/);
  assert.match(answer.text, /"code":"GW_REQUEST_TIMEOUT"/);
  assert.ok(answer.closed, 'the connection is closed');
  assert.equal((await call(`${gw.url}/healthz`)).status, 200);
});
