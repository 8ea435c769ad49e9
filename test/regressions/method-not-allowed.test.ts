import assert from 'node:assert/strict';
import { test } from 'node:test';
import { simulatorConfig, startGateway } from '../helpers/gateway.ts';
import { call } from '../helpers/http.ts';
import { useSimulator } from '../helpers/simulator.ts';

// Issue 15, F14: GET on an inference route was a 404 though 405 GW_METHOD_NOT_ALLOWED is documented.

test('a wrong method on the POST routes is 405 GW_METHOD_NOT_ALLOWED with Allow: POST', async (t) => {
  const simulator = await useSimulator(t);
  const gateway = await startGateway(t, simulatorConfig(simulator));
  for (const path of ['/pipelines/ccfraud/infer', '/pipelines/ccfraud/openai/v1/chat/completions']) {
    const answer = await call(`${gateway.url}${path}`, { method: 'GET' });
    assert.equal(answer.status, 405, path);
    assert.equal(answer.headers.allow, 'POST', path);
    assert.deepEqual(answer.json(), { statusCode: 405, code: 'GW_METHOD_NOT_ALLOWED', error: 'Method Not Allowed', message: 'GET is not allowed here; use POST' }, path);
  }
});
