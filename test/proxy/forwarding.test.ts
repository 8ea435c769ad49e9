import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { test } from 'node:test';
import { ccfraudBody, ccfraudRows } from '../helpers/data.ts';
import { simulatorConfig, startGateway } from '../helpers/gateway.ts';
import { infer } from '../helpers/http.ts';
import { useSimulator } from '../helpers/simulator.ts';
import { ccfraudScore } from '../../src/simulator/models.ts';
import type { ParsedTree } from '../helpers/tree.ts';

test('a prediction comes back with Wallaroo row shape and the model output computed from the input', async (t) => {
  const simulator = await useSimulator(t);
  const gw = await startGateway(t, simulatorConfig(simulator));
  const rows = ccfraudRows(2);
  const answer = await infer(gw.url, 'ccfraud', JSON.stringify(rows));
  assert.equal(answer.status, 200);
  assert.equal(answer.headers['content-type'], 'application/json; format=pandas-records');
  const body = answer.json<Array<ParsedTree>>();
  assert.equal(body.length, 2);
  assert.deepEqual(Object.keys(body[0]!), ['time', 'in', 'out', simulator.control.profile.checkColumn, 'metadata']);
  // Wallaroo prints the float32 output in its shortest form; it reads back to the same float32.
  assert.equal(Math.fround(body[1]!.out.dense_1[0]), ccfraudScore(rows[1]!.tensor));
  assert.equal(body[0]!.metadata.elapsed.length, 2);
});

test('the query string passes through untouched and Wallaroo filters the answer by it', async (t) => {
  const simulator = await useSimulator(t);
  const gw = await startGateway(t, simulatorConfig(simulator));
  const answer = await infer(gw.url, 'ccfraud', ccfraudBody(), {}, '?dataset[]=out&dataset.separator=.');
  assert.equal(answer.status, 200);
  assert.deepEqual(Object.keys(answer.json<Array<Record<string, unknown>>>()[0]!), ['out.dense_1']);
  assert.equal(simulator.control.seen.at(-1)!.url.split('?')[1], 'dataset[]=out&dataset.separator=.');
});

test("the caller's credentials and hop-by-hop headers never reach Wallaroo; the gateway's token replaces them", async (t) => {
  const simulator = await useSimulator(t);
  const gw = await startGateway(t, simulatorConfig(simulator));
  // node:http, because undici will not send a Connection header listing other headers.
  const body = ccfraudBody();
  const answer = await new Promise<{ status: number; requestId: unknown }>((resolve, reject) => {
    const outgoing = httpRequest(`${gw.url}/pipelines/ccfraud/infer`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json', 'content-length': Buffer.byteLength(body),
        authorization: 'Bearer caller-token', cookie: 'session=abc', connection: 'keep-alive, x-drop-me', 'x-drop-me': '1',
        'proxy-authorization': 'Basic xyz', 'x-forwarded-for': '6.6.6.6', 'x-request-id': 'req-123', 'x-custom-trace': 'dropped', traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
      },
    }, (response) => {
      response.resume();
      response.on('end', () => resolve({ status: response.statusCode ?? 0, requestId: response.headers['x-request-id'] }));
    });
    outgoing.on('error', reject);
    outgoing.end(body);
  });
  assert.equal(answer.status, 200);
  assert.equal(answer.requestId, 'req-123');
  const seen = simulator.control.seen.at(-1)!.headers;
  assert.match(String(seen.authorization), /^Bearer ey/);
  assert.ok(!String(seen.authorization).includes('caller-token'));
  assert.equal(seen.cookie, undefined);
  assert.equal(seen['x-drop-me'], undefined);
  assert.equal(seen['proxy-authorization'], undefined);
  assert.equal(seen['x-forwarded-for'], undefined);
  assert.equal(seen['x-request-id'], 'req-123');
  assert.equal(seen['x-custom-trace'], undefined, 'only allow-listed caller headers reach Wallaroo');
  assert.equal(seen.traceparent, '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01');
});

test('a malformed x-request-id is replaced by a generated one', async (t) => {
  const simulator = await useSimulator(t);
  const gw = await startGateway(t, simulatorConfig(simulator));
  const answer = await infer(gw.url, 'ccfraud', ccfraudBody(), { 'x-request-id': 'bad id\twith spaces' });
  assert.match(String(answer.headers['x-request-id']), /^[0-9a-f-]{36}$/);
  assert.equal(simulator.control.seen.at(-1)!.headers['x-request-id'], answer.headers['x-request-id']);
});

test('upstream errors pass through with their status and body plus x-gateway-upstream-status', async (t) => {
  const simulator = await useSimulator(t);
  const gw = await startGateway(t, simulatorConfig(simulator));
  simulator.control.failInference(1, { status: 500, headers: { 'content-type': 'application/json', 'set-cookie': 'x=1', server: 'envoy' }, body: '{"error":"engine crashed"}' });
  const answer = await infer(gw.url, 'ccfraud', ccfraudBody());
  assert.equal(answer.status, 500);
  assert.equal(answer.text, '{"error":"engine crashed"}');
  assert.equal(answer.headers['x-gateway-upstream-status'], '500');
  assert.equal(answer.headers['set-cookie'], undefined);
  assert.equal(answer.headers.server, undefined);

  // A model that rejects its input: Wallaroo's answer (a 500 before 2025, a 400 since) reaches the caller as is.
  const expected = simulator.control.profile.error('bad-input', 'Error getting tensor from inference data');
  const bad = await infer(gw.url, 'ccfraud', '[{"tensor":[1,2,3]}]');
  assert.equal(bad.status, expected.status);
  assert.equal(bad.text, expected.body);
  assert.equal(bad.headers['x-gateway-upstream-status'], String(expected.status));
});
