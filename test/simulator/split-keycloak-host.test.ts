import assert from 'node:assert/strict';
import { test } from 'node:test';
import { WALLAROO_VERSIONS } from '../../src/simulator/server.ts';
import { call } from '../helpers/http.ts';
import { simulatorToken, useSimulator } from '../helpers/simulator.ts';

test('before 2024.2 Keycloak has a host of its own, named in the tokens\' iss; since, the API host serves it', async (t) => {
  for (const version of WALLAROO_VERSIONS) {
    const simulator = await useSimulator(t, { version });
    const own = version === '2023.4';
    assert.equal(simulator.keycloakUrl !== simulator.url, own, version);
    const token = await simulatorToken(simulator, 'service-account');
    const claims = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString('utf8')) as { iss: string };
    assert.equal(claims.iss, `${simulator.keycloakUrl}/auth/realms/master`, version);
    // The token endpoint answers on Keycloak's host only.
    const onApiHost = await call(`${simulator.url}/auth/realms/master/protocol/openid-connect/token`, {
      method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'grant_type=client_credentials',
    });
    assert.equal(onApiHost.status, own ? 404 : 401, version);
    // The MLOps API and inference answer on the API host only.
    const mlops = await call(`${simulator.keycloakUrl}/v1/api/workspaces/list`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    assert.equal(mlops.status, own ? 404 : 401, version);
  }
});
