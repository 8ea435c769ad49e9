import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ccfraudBody } from '../helpers/data.ts';
import { SERVER_WITHOUT_SHEDDING, simulatorConfig, startGateway } from '../helpers/gateway.ts';
import { infer } from '../helpers/http.ts';
import { useSimulator } from '../helpers/simulator.ts';

test('the request log line: client address (X-Forwarded-For only from trusted proxies), method, path without the query, user agent, bytes, durations, error code', async (t) => {
  const simulator = await useSimulator(t);
  const direct = await startGateway(t, simulatorConfig(simulator, { server: SERVER_WITHOUT_SHEDDING, logging: { level: 'info' } }));
  const proxied = await startGateway(t, simulatorConfig(simulator, { server: { ...SERVER_WITHOUT_SHEDDING, trustProxy: ['127.0.0.1', '203.0.113.0/24'] }, logging: { level: 'info' } }));
  const body = ccfraudBody(1);
  const headers = { 'x-forwarded-for': '198.51.100.7, 203.0.113.9', 'user-agent': 'fraud-scorer/2.3 (+batch)' };
  const query = '?dataset[]=*&api_key=not-for-logs';

  const answer = await infer(direct.url, 'ccfraud', body, { ...headers, 'x-request-id': 'fields-1' }, query);
  assert.equal(answer.status, 200);
  const line = direct.logs.find((l) => l.reqId === 'fields-1' && l.msg === 'request')!;
  const { durationMs, upstreamMs, engineMs, time, ...rest } = line;
  assert.deepEqual(rest, {
    level: 'info',
    service: 'wallaroo-gateway',
    reqId: 'fields-1',
    method: 'POST',
    path: '/pipelines/ccfraud/infer',
    route: 'infer',
    pipeline: 'ccfraud',
    status: 200,
    upstreamStatus: 200,
    bytesIn: Buffer.byteLength(body),
    bytesOut: answer.body.length,
    // Not behind a trusted proxy: the header is the caller's claim, the socket's peer is the client.
    clientAddress: '127.0.0.1',
    userAgent: 'fraud-scorer/2.3 (+batch)',
    msg: 'request',
  });
  for (const value of [durationMs, upstreamMs, engineMs]) assert.ok(typeof value === 'number' && value > 0);
  assert.ok((durationMs as number) >= (upstreamMs as number));
  assert.match(String(time), /^\d{4}-\d\d-\d\dT/);
  assert.ok(!direct.logText().includes('not-for-logs'), 'the query string is never logged');

  // Behind trusted proxies, the client is the nearest address in X-Forwarded-For that is not one of them.
  assert.equal((await infer(proxied.url, 'ccfraud', body, { ...headers, 'x-request-id': 'fields-2' })).status, 200);
  assert.equal(proxied.logs.find((l) => l.reqId === 'fields-2')!.clientAddress, '198.51.100.7');

  // A gateway error: its code is on the line, and the bytes sent.
  const missing = await infer(direct.url, 'nope', body, { 'x-request-id': 'fields-3' });
  assert.equal(missing.status, 404);
  const error = direct.logs.find((l) => l.reqId === 'fields-3' && l.msg === 'request')!;
  assert.equal(error.code, 'GW_PIPELINE_NOT_FOUND');
  assert.equal(error.bytesOut, missing.body.length);
  assert.equal(error.path, '/pipelines/nope/infer');
  assert.equal(error.userAgent, undefined);
});
