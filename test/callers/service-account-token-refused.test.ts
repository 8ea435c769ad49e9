import assert from 'node:assert/strict';
import { test } from 'node:test';
import { bearer, callersConfig, kubernetesCallers } from '../helpers/callers.ts';
import { startGateway } from '../helpers/gateway.ts';
import { call, infer, readyStatus } from '../helpers/http.ts';
import { publicKeyHmacToken, startIssuer, tamperedToken, unsignedToken } from '../helpers/k8s-issuer.ts';
import { rawExchange, statusOf } from '../helpers/raw-http.ts';
import { useSimulator } from '../helpers/simulator.ts';

const ALGORITHMS = 'RS256, RS384, RS512, PS256, PS384, PS512, ES256, ES384, ES512';

test('kubernetes callers: every bad credential is a 401 GW_CALLER_UNAUTHENTICATED with WWW-Authenticate, before the body is read, counted per pipeline', async (t) => {
  const simulator = await useSimulator(t);
  const issuer = await startIssuer(t, 'RS256');
  const gw = await startGateway(t, callersConfig(simulator, { callers: kubernetesCallers(issuer, { clockSkewSeconds: 30 }) }));
  assert.equal(await readyStatus(gw.url, 100, 50), 200);
  const who = { namespace: 'payments', name: 'scorer' };
  const unknownKid = await issuer.unpublishedKey('RS256');
  const valid = await issuer.token(who);

  const cases: Array<{ name: string; headers: Record<string, string>; message: string; presented: boolean }> = [
    { name: 'no credential', headers: {}, message: 'a service-account token is required (Authorization: Bearer <projected token with audience wallaroo-gateway>)', presented: false },
    { name: 'not Bearer', headers: { authorization: 'Basic YWRtaW46YWRtaW4=' }, message: 'the Authorization header must be Bearer <token>', presented: true },
    { name: 'not a JWT', headers: bearer('not-a-jwt'), message: 'the bearer token is not a signed JWT', presented: true },
    { name: 'expired beyond the skew', headers: bearer(await issuer.token({ ...who, expiresIn: -60 })), message: 'the token has expired', presented: true },
    { name: 'another audience (the API server default)', headers: bearer(await issuer.token({ ...who, audience: [issuer.url] })), message: "the token's audience does not include wallaroo-gateway", presented: true },
    { name: 'another issuer', headers: bearer(await issuer.token({ ...who, issuer: 'https://container.googleapis.com/v1/projects/p/locations/l/clusters/other' })), message: 'the token was not issued by the configured issuer', presented: true },
    { name: 'alg none', headers: bearer(unsignedToken(issuer, who)), message: `the token's signing algorithm is not accepted (accepted: ${ALGORITHMS})`, presented: true },
    { name: 'HS256 with the public key as secret', headers: bearer(publicKeyHmacToken(issuer, who)), message: `the token's signing algorithm is not accepted (accepted: ${ALGORITHMS})`, presented: true },
    { name: 'payload changed after signing', headers: bearer(tamperedToken(valid, 'admin')), message: "the token's signature does not verify", presented: true },
    { name: 'a key the issuer does not publish', headers: bearer(await issuer.token({ ...who, kid: unknownKid })), message: 'the token is signed with a key the issuer does not publish', presented: true },
    { name: 'not a service account', headers: bearer(await issuer.token({ ...who, claims: { sub: 'alice' } })), message: "the token's subject is not a service account (system:serviceaccount:<namespace>:<name>)", presented: true },
    { name: 'kubernetes.io claim disagrees with sub', headers: bearer(await issuer.token({ ...who, claims: { sub: 'system:serviceaccount:kube-system:admin' } })), message: "the token's kubernetes.io claim does not match its subject", presented: true },
  ];
  const inferenceBefore = simulator.control.counts.inference;
  for (const { name, headers, message, presented } of cases) {
    // A body the gateway would refuse as malformed: the 401 comes first.
    const answer = await infer(gw.url, 'summary', '{broken', headers);
    assert.equal(answer.status, 401, name);
    assert.deepEqual(answer.json(), { statusCode: 401, code: 'GW_CALLER_UNAUTHENTICATED', error: 'Unauthorized', message }, name);
    assert.equal(
      answer.headers['www-authenticate'],
      presented ? `Bearer realm="wallaroo-gateway", error="invalid_token", error_description="${message.replace(/"/g, "'")}"` : 'Bearer realm="wallaroo-gateway"',
      name,
    );
  }
  assert.equal(simulator.control.counts.inference, inferenceBefore, 'no refused request reached Wallaroo');

  // Within the skew, an expired token still passes (clocks differ a little between nodes).
  assert.equal((await infer(gw.url, 'summary', '[{"a":1}]', bearer(await issuer.token({ ...who, expiresIn: -10 })))).status, 200);

  // Refused before the body is read: a declared 5 MB body that is never sent gets its answer at once.
  const raw = await rawExchange(gw.url, [
    'POST /pipelines/summary/infer HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 5000000\r\n\r\n',
  ], { waitMs: 10_000 });
  assert.equal(statusOf(raw.text), 401);
  assert.equal(raw.closed, true, 'the connection is closed: the unread body must not be taken for a request');

  // The OpenAI routes are behind the same check; an unknown pipeline is 401 too (nothing learnt without a token).
  assert.equal((await call(`${gw.url}/pipelines/summary/openai/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })).status, 401);
  assert.equal((await infer(gw.url, 'no-such-pipeline', '[]')).status, 401);
  // Health, readiness, metrics and the listing need no token.
  for (const path of ['/healthz', '/readyz', '/pipelines', '/metrics']) assert.equal((await call(`${gw.url}${path}`)).status, 200, path);

  const metrics = (await call(`${gw.url}/metrics`)).text;
  assert.match(metrics, new RegExp(`^wallaroo_gateway_caller_refusals_total\\{pipeline="summary",reason="unauthenticated"\\} ${cases.length + 2}$`, 'm'));
  assert.match(metrics, /^wallaroo_gateway_caller_refusals_total\{pipeline="",reason="unauthenticated"\} 1$/m);
  assert.match(metrics, /^wallaroo_gateway_requests_total\{pipeline="summary",route="infer",status="401"\} \d+$/m);
  for (const { headers } of cases) {
    const token = headers.authorization?.split(' ')[1];
    if (token && token.length > 20) {
      assert.ok(!metrics.includes(token) && !gw.logText().includes(token), 'no presented token in metrics or logs');
    }
  }
  const refusedLine = gw.logs.find((l) => l.msg === 'request' && l.status === 401 && l.pipeline === 'summary');
  assert.ok(refusedLine, 'the request line of a refusal names the pipeline');
});
