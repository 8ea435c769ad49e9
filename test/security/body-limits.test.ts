import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
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
  const { text, ms } = await rawExchange(gw.url, [
    'POST /pipelines/summary/infer HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000000000\r\n\r\n[{"a":',
  ], { waitMs: 3_000 });
  assert.equal(statusOf(text), 413);
  assert.equal(jsonBodyOf(text).code, 'GW_BODY_TOO_LARGE');
  assert.ok(ms < 2_000, `answered in ${ms} ms without waiting for a gigabyte`);
  assert.equal(simulator.control.counts.inference, 0);
});

test('an undeclared (chunked) body is counted as it streams and stopped at the limit, converted or not', async (t) => {
  const simulator = await useSimulator(t);
  for (const upstreamFormat of ['passthrough', 'arrow']) {
    const gw = await startGateway(t, simulatorConfig(simulator, limited(simulator.url, upstreamFormat)));
    async function* chunks() {
      yield Buffer.from('[');
      for (let i = 0; i < 400; i++) yield Buffer.from(`{"a":${i}},`); // about 3.5 KiB
      yield Buffer.from('{"a":0}]');
    }
    const response = await request(`${gw.url}/pipelines/summary/infer`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: Readable.from(chunks()) }).catch((error: Error) => error);
    if (response instanceof Error) {
      // The gateway may close the connection while the client is still sending: also a refusal.
      assert.match(response.message, /socket|closed|reset|EPIPE/i, upstreamFormat);
    } else {
      assert.equal(response.statusCode, 413, upstreamFormat);
      assert.equal(((await response.body.json()) as { code: string }).code, 'GW_BODY_TOO_LARGE');
    }
  }
});

test('slow-loris: a body that stops arriving gets 408 GW_REQUEST_TIMEOUT, and the gateway keeps serving', async (t) => {
  const simulator = await useSimulator(t);
  for (const upstreamFormat of ['passthrough', 'arrow']) {
    const gw = await startGateway(t, simulatorConfig(simulator, limited(simulator.url, upstreamFormat)));
    const { text, ms } = await rawExchange(gw.url, [
      'POST /pipelines/summary/infer HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 500\r\n\r\n[{"a":1}',
    ], { waitMs: 5_000 });
    assert.equal(statusOf(text), 408, `${upstreamFormat}: ${text.slice(0, 200)}`);
    assert.equal(jsonBodyOf(text).code, 'GW_REQUEST_TIMEOUT');
    assert.ok(ms >= 350 && ms < 3_000, `timed out after ${ms} ms`);
    const ok = await request(`${gw.url}/pipelines/summary/infer`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '[{"a":1}]' });
    assert.equal(ok.statusCode, 200);
    await ok.body.dump();
  }
});
