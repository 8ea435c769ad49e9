import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ccfraudBody } from '../helpers/data.ts';
import { simulatorConfig, startGateway } from '../helpers/gateway.ts';
import { call, infer } from '../helpers/http.ts';
import { useSimulator } from '../helpers/simulator.ts';

test('one structured line per request: id, pipeline, status, durations (total, upstream, engine), bytes', async (t) => {
  const simulator = await useSimulator(t);
  const gw = await startGateway(t, simulatorConfig(simulator, { logging: { level: 'info' } }));
  const body = ccfraudBody(2);
  const answer = await infer(gw.url, 'ccfraud', body, { 'x-request-id': 'trace-42' });
  assert.equal(answer.status, 200);
  await call(`${gw.url}/healthz`); // health checks stay out of the info log
  const lines = gw.logs.filter((l) => l.msg === 'request');
  assert.equal(lines.length, 1);
  const line = lines[0]!;
  assert.equal(line.reqId, 'trace-42');
  assert.equal(line.pipeline, 'ccfraud');
  assert.equal(line.route, 'infer');
  assert.equal(line.status, 200);
  assert.equal(line.upstreamStatus, 200);
  assert.equal(line.bytesIn, Buffer.byteLength(body));
  assert.equal(line.bytesOut, answer.body.length);
  for (const field of ['durationMs', 'upstreamMs', 'engineMs']) assert.equal(typeof line[field], 'number', field);
  assert.ok((line.durationMs as number) >= (line.upstreamMs as number));
  assert.equal(line.level, 'info');
  assert.match(String(line.time), /^\d{4}-\d\d-\d\dT/);
});
