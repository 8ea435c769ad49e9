import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ccfraudBody } from '../helpers/data.ts';
import { call, JSON_RECORDS } from '../helpers/http.ts';
import { simulatorToken, useSimulator } from '../helpers/simulator.ts';

test('the MLOps API takes a user token and refuses a service account\'s, as Wallaroo documents; inference takes both', async (t) => {
  const simulator = await useSimulator(t);
  const service = await simulatorToken(simulator, 'service-account');
  const user = await simulatorToken(simulator, 'user');
  const mlops = (command: string, body: string, token: string) =>
    call(`${simulator.url}/v1/api${command}`, { method: 'POST', headers: { authorization: token, 'content-type': 'application/json' }, body });
  const refusal = simulator.control.profile.error('mlops-needs-user-token', 'the MLOps API needs a user token; service-account-api-client is a service account');
  for (const [command, body] of [['/workspaces/list', '{}'], ['/admin/get_pipeline_external_url', '{"workspace_id":8,"pipeline_name":"ccfraud"}']] as const) {
    const refused = await mlops(command, body, service);
    assert.deepEqual([refused.status, refused.text], [refusal.status, refusal.body], command);
    assert.equal((await mlops(command, body, user)).status, 200, command);
  }
  for (const token of [service, user]) {
    const answer = await call(simulator.control.inferenceUrl('ccfraud'), { method: 'POST', headers: { authorization: token, 'content-type': JSON_RECORDS }, body: ccfraudBody() });
    assert.equal(answer.status, 200);
  }

  // Installs that let a service account use the MLOps API: the option says so.
  const lenient = await useSimulator(t, { mlopsAcceptsServiceAccountTokens: true });
  const lenientToken = await simulatorToken(lenient, 'service-account');
  const listed = await call(`${lenient.url}/v1/api/workspaces/list`, { method: 'POST', headers: { authorization: lenientToken, 'content-type': 'application/json' }, body: '{}' });
  assert.equal(listed.status, 200);
});
