import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';
import { bearer, callersConfig } from '../helpers/callers.ts';
import { createCa } from '../helpers/certificates.ts';
import { startGateway } from '../helpers/gateway.ts';
import { call, infer, readyStatus } from '../helpers/http.ts';
import { startIssuer } from '../helpers/k8s-issuer.ts';
import { useSimulator } from '../helpers/simulator.ts';
import { useTempDir } from '../helpers/temp.ts';

// The in-cluster setup: the issuer (kubernetes.default.svc.cluster.local) is not fetched; the keys come from the
// API server's /openid/v1/jwks over https, verified with the cluster CA, with the gateway's own service-account
// token (which the kubelet rotates, so it is re-read for each fetch).
const ISSUER = 'https://kubernetes.default.svc.cluster.local';

test('jwksUrl over https with caFile and bearerTokenFile: the CA is enforced, the token re-read per fetch, discovery skipped', async (t) => {
  const simulator = await useSimulator(t);
  const clusterCa = await createCa('kubernetes');
  const apiServer = await startIssuer(t, { tls: await clusterCa.issue({ commonName: 'kube-apiserver', server: true }) });
  apiServer.requiredAuthorization = 'Bearer gateway-token-1';
  const dir = useTempDir(t, 'gw-api-server');
  writeFileSync(join(dir, 'ca.crt'), clusterCa.certPem);
  writeFileSync(join(dir, 'token'), 'gateway-token-1\n');
  const kubernetes = { issuer: ISSUER, jwksUrl: apiServer.jwksUrl, caFile: join(dir, 'ca.crt'), bearerTokenFile: join(dir, 'token'), keysMinRefreshSeconds: 1 };
  const gw = await startGateway(t, callersConfig(simulator, { callers: { authentication: 'kubernetes', kubernetes } }));
  assert.equal(await readyStatus(gw.url, 100, 50), 200);
  assert.equal((await infer(gw.url, 'summary', '[{"a":1}]', bearer(await apiServer.token({ namespace: 'payments', name: 'scorer', issuer: ISSUER })))).status, 200);
  assert.equal(apiServer.counts.discovery, 0);
  assert.deepEqual(apiServer.jwksAuthorizations, ['Bearer gateway-token-1']);

  // The kubelet rotates the gateway's token; the API server starts signing with a new key.
  writeFileSync(join(dir, 'token'), 'gateway-token-2\n');
  apiServer.requiredAuthorization = 'Bearer gateway-token-2';
  await apiServer.addKey('ES256');
  const rotated = bearer(await apiServer.token({ namespace: 'payments', name: 'scorer', issuer: ISSUER }));
  let status = (await infer(gw.url, 'summary', '[{"a":1}]', rotated)).status;
  for (let i = 0; i < 100 && status !== 200; i++) {
    await sleep(50); // the refresh interval must pass; no event says when
    status = (await infer(gw.url, 'summary', '[{"a":1}]', rotated)).status;
  }
  assert.equal(status, 200);
  assert.equal(apiServer.jwksAuthorizations.at(-1), 'Bearer gateway-token-2');

  // The same gateway without the cluster CA does not trust the API server: no keys, so not ready and 503s.
  const untrusting = await startGateway(t, callersConfig(simulator, { callers: { authentication: 'kubernetes', kubernetes: { ...kubernetes, caFile: null } } }));
  const answer = await infer(untrusting.url, 'summary', '[{"a":1}]', rotated);
  assert.equal(answer.status, 503);
  assert.equal(answer.json<{ code: string }>().code, 'GW_CALLER_KEYS_UNAVAILABLE');
  assert.equal((await call(`${untrusting.url}/readyz`)).status, 503);
  assert.match((await call(`${untrusting.url}/metrics`)).text, /^wallaroo_gateway_caller_key_fetches_total\{result="failure"\} [1-9]\d*$/m);
});

test("discovery: the gateway's own token goes only to the configured origin, not to a jwks_uri on another one", async (t) => {
  const simulator = await useSimulator(t);
  const issuer = await startIssuer(t);
  // The same server under another name: another origin as far as any client can tell.
  issuer.discoveredJwksUri = issuer.jwksUrl.replace('127.0.0.1', 'localhost');
  const dir = useTempDir(t, 'gw-token-scope');
  writeFileSync(join(dir, 'token'), 'gateway-token\n');
  const gw = await startGateway(t, callersConfig(simulator, {
    callers: { authentication: 'kubernetes', kubernetes: { issuer: issuer.url, bearerTokenFile: join(dir, 'token') } },
  }));
  assert.equal(await readyStatus(gw.url, 100, 50), 200);
  assert.equal((await infer(gw.url, 'summary', '[{"a":1}]', bearer(await issuer.token({ namespace: 'payments', name: 'scorer' })))).status, 200);
  assert.deepEqual(issuer.discoveryAuthorizations, ['Bearer gateway-token']);
  assert.deepEqual(issuer.jwksAuthorizations, [undefined]);
});
