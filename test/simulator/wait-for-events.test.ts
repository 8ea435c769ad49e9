import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ccfraudBody } from '../helpers/data.ts';
import { call, JSON_RECORDS } from '../helpers/http.ts';
import { simulatorToken, useSimulator } from '../helpers/simulator.ts';

test('control.waitFor resolves on the event tests wait for, filters by payload, and gives up after its bound', async (t) => {
  const simulator = await useSimulator(t);
  const { control } = simulator;
  const tokenRequested = control.waitFor('token-requested', (e) => e.grant === 'client_credentials');
  const issued = control.waitFor('token-issued');
  const token = await simulatorToken(simulator, 'service-account');
  assert.deepEqual(await tokenRequested, { grant: 'client_credentials' });
  assert.deepEqual(await issued, { grant: 'client_credentials', clientId: 'api-client', expiresIn: control.profile.lifetimes.clientCredentials });

  // Events emitted back to back, in one tick, are not lost between two checks.
  let chunks = 0;
  const secondChunk = control.waitFor('stream-chunk', () => ++chunks === 2, 1_000);
  control.emit('stream-chunk', { pipeline: 'llm', index: 0 });
  control.emit('stream-chunk', { pipeline: 'llm', index: 1 });
  assert.deepEqual(await secondChunk, { pipeline: 'llm', index: 1 });

  let seen = 0;
  const second = control.waitFor('inference-answered', () => ++seen === 2);
  const url = control.inferenceUrl('ccfraud');
  const infer = () => call(url, { method: 'POST', headers: { authorization: token, 'content-type': JSON_RECORDS }, body: ccfraudBody() });
  const received = control.waitFor('inference-received');
  await Promise.all([infer(), infer()]);
  assert.deepEqual(await second, { pipeline: 'ccfraud', status: 200 });
  assert.equal((await received).pipeline, 'ccfraud');

  await assert.rejects(control.waitFor('mlops-request', () => true, 50), { message: 'simulator: no mlops-request event within 50 ms' });
});
