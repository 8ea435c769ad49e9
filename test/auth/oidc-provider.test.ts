import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import Provider from 'oidc-provider';
import pino from 'pino';
import { Agent } from 'undici';
import { TokenManager } from '../../src/auth/token-manager.ts';
import { basicAuthorization } from '../../src/auth/token-request.ts';
import { boundsFor } from '../../src/http/deadline.ts';

// RFC 6749 2.3.1: the id and secret are form-urlencoded before base64, so ':' '%' '+' ' ' survive. (Appendix A
// limits client secrets to printable ASCII, and oidc-provider enforces that; non-ASCII secrets, which Keycloak
// accepts, are covered against the simulator in basic-auth-encoding.test.ts.)
const HOSTILE_SECRET = 'p:a%25ss+w/o rd=&?#!~*\'()';

async function startProvider(t: import('node:test').TestContext, secret: string) {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const provider = new Provider(issuer, {
    clients: [
      {
        client_id: 'api-client',
        client_secret: secret,
        grant_types: ['client_credentials'],
        redirect_uris: [],
        response_types: [],
        token_endpoint_auth_method: 'client_secret_basic',
      },
    ],
    features: { clientCredentials: { enabled: true }, devInteractions: { enabled: false } },
    ttl: { ClientCredentials: 120 },
  });
  server.on('request', provider.callback());
  t.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return { tokenUrl: `${issuer}/token` };
}

/** The provider's answer to a client_credentials request sent with `authorization` as is. */
async function tokenStatus(tokenUrl: string, authorization: string): Promise<{ status: number; error: unknown }> {
  const response = await fetch(tokenUrl, {
    method: 'POST',
    headers: { authorization, 'content-type': 'application/x-www-form-urlencoded' },
    body: 'grant_type=client_credentials',
  });
  const body = (await response.json()) as { error?: unknown };
  return { status: response.status, error: body.error };
}

// The secret is one a naive `id:secret` base64 gets wrong (the provider refuses that header), so the token
// manager gets a token only if it form-urlencodes first.
test('client_credentials against a real OpenID provider with a secret full of reserved characters', async (t) => {
  const { tokenUrl } = await startProvider(t, HOSTILE_SECRET);
  const naive = `Basic ${Buffer.from(`api-client:${HOSTILE_SECRET}`).toString('base64')}`;
  assert.deepEqual(await tokenStatus(tokenUrl, naive), { status: 401, error: 'invalid_client' }, 'the naive encoding is refused');
  assert.deepEqual(await tokenStatus(tokenUrl, basicAuthorization('api-client', HOSTILE_SECRET)), { status: 200, error: undefined }, "the gateway's encoding is accepted");

  const dispatcher = new Agent();
  t.after(() => dispatcher.close());
  const manager = new TokenManager({
    kind: 'inference',
    tokenUrl,
    grant: { type: 'client_credentials', clientId: 'api-client', clientSecret: { source: 'inline', value: HOSTILE_SECRET } },
    refreshBeforeMs: 60_000,
    dispatcher,
    logger: pino({ level: 'silent' }),
  });
  t.after(() => manager.close());
  const [first, second] = await Promise.all([manager.get(boundsFor(10_000)), manager.get(boundsFor(10_000))]);
  assert.ok(first.value.length > 10);
  assert.equal(first, second, 'one fetch for both callers');
  assert.ok(manager.hasValidToken());
});

test('a wrong secret is GW_TOKEN_UNAVAILABLE naming the OAuth error only', async (t) => {
  const { tokenUrl } = await startProvider(t, HOSTILE_SECRET);
  const dispatcher = new Agent();
  t.after(() => dispatcher.close());
  const manager = new TokenManager({
    kind: 'inference',
    tokenUrl,
    grant: { type: 'client_credentials', clientId: 'api-client', clientSecret: { source: 'inline', value: 'not-it' } },
    refreshBeforeMs: 60_000,
    dispatcher,
    logger: pino({ level: 'silent' }),
  });
  t.after(() => manager.close());
  await assert.rejects(manager.get(boundsFor(10_000)), { code: 'GW_TOKEN_UNAVAILABLE', message: 'no valid Wallaroo inference token: token endpoint answered 401 invalid_client' });
});
