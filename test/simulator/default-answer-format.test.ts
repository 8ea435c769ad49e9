import assert from 'node:assert/strict';
import { test } from 'node:test';
import { tableFromIPC } from 'apache-arrow';
import { ccfraudBody, sample } from '../helpers/data.ts';
import { ARROW_FILE, call, JSON_RECORDS } from '../helpers/http.ts';
import { simulatorToken, useSimulator } from '../helpers/simulator.ts';

test('Wallaroo answers pandas-records JSON unless Accept asks for an Arrow file, whatever the input format', async (t) => {
  const simulator = await useSimulator(t);
  const token = await simulatorToken(simulator, 'service-account');
  const url = simulator.control.inferenceUrl('ccfraud');
  const infer = (body: string | Buffer, headers: Record<string, string>) => call(url, { method: 'POST', headers: { authorization: token, ...headers }, body });
  const arrowInput = sample('cc_data_1k.arrow');
  for (const [what, body, headers] of [
    ['JSON, no Accept', ccfraudBody(), { 'content-type': JSON_RECORDS }],
    ['Arrow, no Accept', arrowInput, { 'content-type': ARROW_FILE }],
    ['Arrow, curl\'s */*', arrowInput, { 'content-type': ARROW_FILE, accept: '*/*' }],
    ['Arrow, Accept JSON', arrowInput, { 'content-type': ARROW_FILE, accept: 'application/json' }],
  ] as const) {
    const answer = await infer(body, headers);
    assert.equal(answer.status, 200, what);
    assert.equal(answer.headers['content-type'], JSON_RECORDS, what);
    assert.ok(Array.isArray(answer.json()), what);
  }
  for (const [what, body, contentType] of [['JSON in', ccfraudBody(), JSON_RECORDS], ['Arrow in', arrowInput, ARROW_FILE]] as const) {
    const answer = await infer(body, { 'content-type': contentType, accept: ARROW_FILE });
    assert.equal(answer.headers['content-type'], ARROW_FILE, what);
    assert.ok(tableFromIPC(answer.body).numRows >= 1, what);
  }
});
