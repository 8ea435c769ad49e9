import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createLocalJWKSet, exportJWK, generateKeyPair, SignJWT } from 'jose';
import { MAX_TOKEN_LENGTH, ServiceAccountTokenVerifier } from '../../src/callers/token-verifier.ts';

// The verifier without sockets: a fake wall clock, and a key lookup that counts how often a signature is checked.

const ISSUER = 'https://kubernetes.default.svc.cluster.local';
const T0 = 1_900_000_000; // Unix seconds

async function setup(skewSeconds = 30) {
  const { privateKey, publicKey } = await generateKeyPair('RS256', { extractable: true });
  const local = createLocalJWKSet({ keys: [{ ...(await exportJWK(publicKey)), kid: 'k1', alg: 'RS256', use: 'sig' }] });
  let lookups = 0;
  let nowMs = T0 * 1000;
  const verifier = new ServiceAccountTokenVerifier({
    issuer: ISSUER,
    audience: 'wallaroo-gateway',
    clockSkewSeconds: skewSeconds,
    keys: {
      keyFor: (header, token) => {
        lookups++;
        return local(header, token);
      },
    },
    now: () => nowMs,
  });
  const sign = (claims: { sub?: string; exp: number; iat?: number; aud?: string[]; iss?: string }) =>
    new SignJWT({ aud: claims.aud ?? ['wallaroo-gateway'], iss: claims.iss ?? ISSUER, iat: claims.iat ?? T0, nbf: claims.iat ?? T0, sub: claims.sub ?? 'system:serviceaccount:payments:scorer', exp: claims.exp })
      .setProtectedHeader({ alg: 'RS256', kid: 'k1' })
      .sign(privateKey);
  return { verifier, sign, lookups: () => lookups, setNow: (seconds: number) => (nowMs = seconds * 1000) };
}

test('a token verified once is answered from the cache (synchronously, no signature check) until it expires', async () => {
  const { verifier, sign, lookups, setNow } = await setup();
  const token = await sign({ exp: T0 + 600 });
  const first = verifier.verify(token);
  assert.ok(first instanceof Promise, 'the first sight of a token verifies its signature');
  assert.deepEqual(await first, { ok: true, identity: { id: 'system:serviceaccount:payments:scorer', serviceAccount: { namespace: 'payments', name: 'scorer' } } });
  assert.equal(lookups(), 1);

  for (let i = 0; i < 100; i++) {
    const again = verifier.verify(token);
    assert.ok(!(again instanceof Promise), 'answered without a promise');
    assert.equal(again.ok, true);
  }
  assert.equal(lookups(), 1, 'no signature check for a token already verified');

  // Past exp + skew the cached answer no longer holds: verified again, and refused.
  setNow(T0 + 600 + 31);
  assert.deepEqual(await verifier.verify(token), { ok: false, reason: 'unauthenticated', message: 'the token has expired', presented: true });
  assert.equal(lookups(), 2);
});

test('the clock skew is applied exactly at the boundary', async () => {
  const { verifier, sign, setNow } = await setup(30);
  const token = await sign({ exp: T0 + 60 });
  setNow(T0 + 60 + 29);
  assert.equal((await verifier.verify(token)).ok, true, 'expired 29 s ago: within a 30 s skew');
  const other = await sign({ exp: T0 + 60, sub: 'system:serviceaccount:payments:other' });
  setNow(T0 + 60 + 30);
  assert.equal((await verifier.verify(other)).ok, false, 'expired 30 s ago: at the edge, refused (jose: exp <= now - skew)');
  setNow(T0 + 60 + 29.999);
  const cached = verifier.verify(token);
  assert.ok(!(cached instanceof Promise) && cached.ok, 'the cached answer for the first token ends where the check would');
  setNow(T0 + 60 + 30);
  assert.equal((await verifier.verify(token)).ok, false);
});

test('clearing the cache (the keys changed) makes every token be verified again; refusals are cached too, each token apart', async () => {
  const { verifier, sign, lookups } = await setup();
  const token = await sign({ exp: T0 + 600 });
  await verifier.verify(token);
  verifier.clearCache();
  await verifier.verify(token);
  assert.equal(lookups(), 2);

  const notServiceAccount = await sign({ exp: T0 + 600, sub: 'alice' });
  assert.equal((await verifier.verify(notServiceAccount)).ok, false);
  const cachedRefusal = verifier.verify(notServiceAccount);
  assert.ok(!(cachedRefusal instanceof Promise) && !cachedRefusal.ok, 'the same bad token is not checked twice');
  assert.equal(lookups(), 3);
});

test('an oversized token is refused without being parsed or hashed', async () => {
  const { verifier, lookups } = await setup();
  const answer = verifier.verify('a'.repeat(MAX_TOKEN_LENGTH + 1));
  assert.deepEqual(answer, { ok: false, reason: 'unauthenticated', message: `the bearer token is longer than ${MAX_TOKEN_LENGTH} characters`, presented: true });
  assert.equal(lookups(), 0);
});

test("a token for another audience or from another issuer is refused before any key is looked up (so it never prompts a key fetch)", async () => {
  const { verifier, sign, lookups } = await setup();
  assert.deepEqual(await verifier.verify(await sign({ exp: T0 + 600, aud: [ISSUER] })), { ok: false, reason: 'unauthenticated', message: "the token's audience does not include wallaroo-gateway", presented: true });
  assert.deepEqual(await verifier.verify(await sign({ exp: T0 + 600, iss: 'https://oidc.eks.eu-west-1.amazonaws.com/id/OTHER' })), { ok: false, reason: 'unauthenticated', message: 'the token was not issued by the configured issuer', presented: true });
  assert.equal(lookups(), 0);
});
