import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ccfraudBody } from '../helpers/data.ts';
import { call, JSON_RECORDS } from '../helpers/http.ts';
import { simulatorToken, useSimulator } from '../helpers/simulator.ts';

test('undeploy and deploy keep the inference URL: not found while undeployed, 503 while activating, then served; recreate changes it', async (t) => {
  const simulator = await useSimulator(t);
  const { control } = simulator;
  const token = await simulatorToken(simulator, 'service-account');
  const infer = (url: string) => call(url, { method: 'POST', headers: { authorization: token, 'content-type': JSON_RECORDS }, body: ccfraudBody() });
  const notFound = control.profile.error('deployment-not-found');
  const activating = control.profile.error('pipeline-activating');
  const url = control.inferenceUrl('ccfraud');
  assert.equal((await infer(url)).status, 200);

  control.undeploy('ccfraud');
  assert.equal(control.inferenceUrl('ccfraud'), url);
  const undeployed = await infer(url);
  assert.deepEqual([undeployed.status, undeployed.text], [notFound.status, notFound.body]);

  assert.equal(control.deploy('ccfraud', { activatingForMs: 60_000 }), url, 'redeployed at the same URL');
  const starting = await infer(url);
  assert.deepEqual([starting.status, starting.text], [activating.status, activating.body]);
  control.finishActivation('ccfraud');
  assert.equal((await infer(url)).status, 200);

  const recreated = control.recreate('ccfraud');
  assert.notEqual(recreated, url);
  const old = await infer(url);
  assert.deepEqual([old.status, old.text], [notFound.status, notFound.body]);
  assert.equal((await infer(recreated)).status, 200);
});
