import assert from 'node:assert/strict';
import { test } from 'node:test';
import { call } from '../helpers/http.ts';
import { useSimulator } from '../helpers/simulator.ts';

const FORM = { 'content-type': 'application/x-www-form-urlencoded' };
const basic = (id: string, secret: string) => `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`;

test('grants as Wallaroo documents them: password and refresh with HTTP Basic for the confidential client, none for sdk-client', async (t) => {
  const simulator = await useSimulator(t, { users: { alice: 'al1ce-pw' } });
  const token = (body: string, authorization?: string) =>
    call(simulator.tokenUrl, { method: 'POST', headers: authorization ? { ...FORM, authorization } : FORM, body });
  const api = basic('api-client', 'simulator-secret');
  const { lifetimes } = simulator.control.profile;

  // HTTPBasicAuth(api-client, secret) + grant_type=password: a user token with a refresh token.
  const confidential = await token('grant_type=password&username=alice&password=al1ce-pw', api);
  assert.equal(confidential.status, 200);
  const pair = confidential.json<{ access_token: string; refresh_token: string; expires_in: number; refresh_expires_in: number }>();
  assert.deepEqual([pair.expires_in, pair.refresh_expires_in], [lifetimes.confidentialPassword, lifetimes.refresh]);
  // Refreshed with Basic again; without the client's secret, or by another client, it is refused.
  assert.equal((await token(`grant_type=refresh_token&refresh_token=${pair.refresh_token}`, api)).status, 200);
  const noSecret = await token(`grant_type=refresh_token&refresh_token=${pair.refresh_token}&client_id=api-client`);
  assert.deepEqual([noSecret.status, noSecret.json()], [401, { error: 'invalid_client', error_description: 'Invalid client or Invalid client credentials' }]);
  const otherClient = await token(`grant_type=refresh_token&refresh_token=${pair.refresh_token}&client_id=sdk-client`);
  assert.deepEqual([otherClient.status, otherClient.json()], [400, { error: 'invalid_grant', error_description: "Invalid refresh token. Token client and authorized client don't match" }]);

  // The public sdk-client: no secret, for both grants.
  const sdk = await token('grant_type=password&client_id=sdk-client&username=alice&password=al1ce-pw');
  const sdkPair = sdk.json<{ refresh_token: string; expires_in: number }>();
  assert.deepEqual([sdk.status, sdkPair.expires_in], [200, lifetimes.publicPassword]);
  assert.equal((await token(`grant_type=refresh_token&client_id=sdk-client&refresh_token=${sdkPair.refresh_token}`)).status, 200);
  const wrongPassword = await token('grant_type=password&client_id=sdk-client&username=alice&password=nope');
  assert.deepEqual([wrongPassword.status, wrongPassword.json()], [401, { error: 'invalid_grant', error_description: 'Invalid user credentials' }]);

  // client_credentials: the confidential client only, and no refresh token.
  const service = await token('grant_type=client_credentials', api);
  const serviceBody = service.json<Record<string, unknown>>();
  assert.deepEqual([service.status, serviceBody.expires_in, serviceBody.refresh_expires_in, 'refresh_token' in serviceBody], [200, lifetimes.clientCredentials, 0, false]);
  const publicService = await token('grant_type=client_credentials&client_id=sdk-client');
  assert.deepEqual([publicService.status, publicService.json()], [401, { error: 'unauthorized_client', error_description: 'Public client not allowed to retrieve service account' }]);
  const wrongSecret = await token('grant_type=client_credentials', basic('api-client', 'nope'));
  assert.deepEqual([wrongSecret.status, wrongSecret.json()], [401, { error: 'invalid_client', error_description: 'Invalid client or Invalid client credentials' }]);
});
