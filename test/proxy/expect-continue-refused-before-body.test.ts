import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { test } from 'node:test';
import { ccfraudBody } from '../helpers/data.ts';
import { simulatorConfig, startGateway } from '../helpers/gateway.ts';
import { jsonBodyOf, rawExchange, statusOf } from '../helpers/raw-http.ts';
import { useSimulator } from '../helpers/simulator.ts';

// A caller sending `Expect: 100-continue` with a declared length over the route's limit must get the 413 without
// being invited to send the body (no `100 Continue` first); within the limit it is invited and answered.
const TOO_LARGE = 2 * 1024 * 1024;

test('Expect: 100-continue over the body limit is answered 413 without a 100 Continue, on the OpenAI and inference routes', async (t) => {
  const simulator = await useSimulator(t);
  const gw = await startGateway(t, simulatorConfig(simulator, {
    server: { bodyLimit: '1MiB' },
    pipelines: [{ name: 'llm', workspace: 'demo' }, { name: 'ccfraud', workspace: 'demo' }],
  }));
  const cases = [
    { path: '/pipelines/llm/openai/v1/chat/completions', limit: 1024 * 1024 },
    { path: '/pipelines/ccfraud/infer', limit: 1024 * 1024 },
  ];
  for (const { path, limit } of cases) {
    const head = `POST ${path} HTTP/1.1\r\nHost: gw\r\nContent-Type: application/json\r\nExpect: 100-continue\r\nContent-Length: ${TOO_LARGE}\r\n\r\n`;
    const answer = await rawExchange(gw.url, [head], { waitMs: 10_000, untilAnswer: true });
    assert.equal(statusOf(answer.text), 413, `${path}: ${answer.text.slice(0, 200)}`);
    assert.ok(!answer.text.includes('100 Continue'), `${path}: no invitation to send the body`);
    assert.match(answer.text, /\r\nconnection: close\r\n/i);
    assert.deepEqual(jsonBodyOf(answer.text), {
      statusCode: 413, code: 'GW_BODY_TOO_LARGE', error: 'Payload Too Large', message: `the body is ${TOO_LARGE} bytes; the limit is ${limit}`,
    });
  }
  assert.equal(simulator.control.counts.inference, 0, 'nothing reached Wallaroo');

  // Within the limit: invited, then answered.
  const body = ccfraudBody();
  const { port } = new URL(gw.url);
  const outcome = await new Promise<{ invited: boolean; status: number }>((resolve, reject) => {
    let invited = false;
    const outgoing = httpRequest({
      host: '127.0.0.1', port, method: 'POST', path: '/pipelines/ccfraud/infer',
      headers: { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)), expect: '100-continue' },
    }, (response) => {
      response.resume();
      response.once('end', () => resolve({ invited, status: response.statusCode ?? 0 }));
    });
    outgoing.once('continue', () => {
      invited = true;
      outgoing.end(body);
    });
    outgoing.once('error', reject);
    outgoing.flushHeaders();
  });
  assert.deepEqual(outcome, { invited: true, status: 200 });
});
