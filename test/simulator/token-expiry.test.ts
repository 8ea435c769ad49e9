import assert from 'node:assert/strict';
import { test } from 'node:test';
import { JwtSigner } from '../../src/simulator/jwt.ts';

test('a simulator token is valid through the second of its exp, as Keycloak judges it, and not after', () => {
  const signer = new JwtSigner();
  const token = signer.sign({ sub: 'service-account-api-client', iat: 1_000, exp: 1_001 });
  assert.equal(signer.verify(token, 1_000).ok, true);
  assert.equal(signer.verify(token, 1_001).ok, true, 'a one-second token signed late in its second is not dead on arrival');
  assert.deepEqual(signer.verify(token, 1_002), { ok: false, reason: 'Token is expired' });
});

test('a key rotation invalidates every token signed before it', () => {
  const signer = new JwtSigner();
  const before = signer.sign({ sub: 'a', iat: 1_000, exp: 2_000 });
  signer.rotate();
  const after = signer.sign({ sub: 'a', iat: 1_000, exp: 2_000 });
  assert.deepEqual(signer.verify(before, 1_500), { ok: false, reason: 'invalid signature' });
  assert.equal(signer.verify(after, 1_500).ok, true);
});
