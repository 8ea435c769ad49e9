import assert from 'node:assert/strict';
import { test } from 'node:test';
import { request } from 'undici';
import { simulatorConfig, startGateway } from '../helpers/gateway.ts';
import { jsonBodyOf, rawExchange, statusOf } from '../helpers/raw-http.ts';
import { useSimulator } from '../helpers/simulator.ts';

const limited = (simulatorUrl: string, upstreamFormat = 'passthrough') => ({
  server: { host: '127.0.0.1', port: 0, bodyLimit: '1KiB', bodyTimeoutMs: 400 },
  pipelines: [{ name: 'summary', workspace: 'demo', upstreamFormat }],
  wallaroo: { url: simulatorUrl, auth: { clientSecret: 'simulator-secret' } },
});

test('a declared body over the limit gets 413 at once, before any of it is read', async (t) => {
  const simulator = await useSimulator(t);
  const gw = await startGateway(t, simulatorConfig(simulator, limited(simulator.url)));
  // Only the headers and a few bytes are ever sent, so any answer at all came without waiting for the body.
  const { text } = await rawExchange(gw.url, [
    'POST /pipelines/summary/infer HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000000000\r\n\r\n[{"a":',
  ], { waitMs: 15_000, untilAnswer: true });
  assert.equal(statusOf(text), 413, text.slice(0, 200));
  assert.equal(jsonBodyOf(text).code, 'GW_BODY_TOO_LARGE');
  assert.equal(simulator.control.counts.inference, 0);
});

test('an undeclared (chunked) body is counted as it streams and stopped at the limit, converted or not', async (t) => {
  const simulator = await useSimulator(t);
  for (const upstreamFormat of ['passthrough', 'arrow']) {
    const gw = await startGateway(t, simulatorConfig(simulator, limited(simulator.url, upstreamFormat)));
    // A raw client stops sending once the answer starts, so the 413 is read even if the gateway then resets the
    // connection (an HTTP client that is still writing reports only the reset).
    const chunk = (text: string) => `${Buffer.byteLength(text).toString(16)}\r\n${text}\r\n`;
    const items = Array.from({ length: 400 }, (_, i) => chunk(`{"a":${i}},`)); // about 3.5 KiB
    const { text } = await rawExchange(gw.url, [
      'POST /pipelines/summary/infer HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n',
      chunk('['), ...items, chunk('{"a":0}]'), '0\r\n\r\n',
    ], { waitMs: 15_000, untilAnswer: true });
    assert.equal(statusOf(text), 413, `${upstreamFormat}: ${text.slice(0, 200)}`);
    assert.equal(jsonBodyOf(text).code, 'GW_BODY_TOO_LARGE', upstreamFormat);
  }
});

test('slow-loris: a body that stops arriving gets 408 GW_REQUEST_TIMEOUT, and the gateway keeps serving', async (t) => {
  const simulator = await useSimulator(t);
  for (const upstreamFormat of ['passthrough', 'arrow']) {
    const gw = await startGateway(t, simulatorConfig(simulator, limited(simulator.url, upstreamFormat)));
    const { text, ms } = await rawExchange(gw.url, [
      'POST /pipelines/summary/infer HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 500\r\n\r\n[{"a":1}',
    ], { waitMs: 15_000, untilAnswer: true });
    assert.equal(statusOf(text), 408, `${upstreamFormat}: ${text.slice(0, 200)}`);
    assert.equal(jsonBodyOf(text).code, 'GW_REQUEST_TIMEOUT');
    // Not before bodyTimeoutMs (400 ms, less timer slack); how late it comes on a loaded machine is not a contract.
    assert.ok(ms >= 350, `timed out after ${ms} ms`);
    const ok = await request(`${gw.url}/pipelines/summary/infer`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '[{"a":1}]' });
    assert.equal(ok.statusCode, 200);
    await ok.body.dump();
  }
});
