import assert from 'node:assert/strict';
import { test } from 'node:test';
import { basicAuthorization, formUrlEncode } from '../../src/auth/token-request.ts';
import { ccfraudBody } from '../helpers/data.ts';
import { simulatorConfig, startGateway } from '../helpers/gateway.ts';
import { infer } from '../helpers/http.ts';
import { useSimulator } from '../helpers/simulator.ts';

test('id and secret are form-urlencoded (UTF-8) before base64, per RFC 6749 2.3.1', () => {
  assert.equal(formUrlEncode('a b:c%d+é'), 'a+b%3Ac%25d%2B%C3%A9');
  const header = basicAuthorization('api client', 's:e%c+r é');
  const decoded = Buffer.from(header.slice('Basic '.length), 'base64').toString('utf8');
  assert.equal(decoded, 'api+client:s%3Ae%25c%2Br+%C3%A9');
  // Exactly one unencoded ':' remains: the separator.
  assert.equal(decoded.split(':').length, 2);
});

test('a secret with ":", "%" and non-ASCII characters authenticates against a Keycloak-style endpoint', async (t) => {
  const secret = 'ké:y%25 漢字+🔑';
  const simulator = await useSimulator(t, { clients: { 'api-client': secret } });
  const gw = await startGateway(t, simulatorConfig(simulator, { wallaroo: { url: simulator.url, auth: { clientSecret: secret } } }));
  const answer = await infer(gw.url, 'ccfraud', ccfraudBody());
  assert.equal(answer.status, 200);
  assert.equal(simulator.control.counts.tokenByGrant.client_credentials, 1);
});
