import assert from 'node:assert/strict';
import { test } from 'node:test';
import { errors, exportJWK, generateKeyPair, type JWK } from 'jose';
import { IssuerKeys, KeysUnavailableError, signingKeys } from '../../src/callers/issuer-keys.ts';
import { waitFor } from '../helpers/wait.ts';

// The key set's refresh policy, without sockets: a fake clock and a loader that counts its calls.

async function publicJwk(kid: string): Promise<JWK> {
  const { publicKey } = await generateKeyPair('ES256', { extractable: true });
  return { ...(await exportJWK(publicKey)), kid, alg: 'ES256', use: 'sig' };
}

function harness(options: { minRefreshMs?: number; timeoutMs?: number } = {}) {
  let clock = 0;
  const state = { loads: 0, document: { keys: [] as JWK[] } as unknown, fail: false, hang: false, changes: 0, results: [] as string[] };
  const keys = new IssuerKeys({
    load: async () => {
      state.loads++;
      if (state.hang) return new Promise(() => undefined); // never settles, and ignores the signal
      if (state.fail) throw new Error('503 from the issuer');
      return structuredClone(state.document);
    },
    timeoutMs: options.timeoutMs ?? 1_000,
    minRefreshMs: options.minRefreshMs ?? 5_000,
    refreshMs: 300_000,
    now: () => clock,
    onFetch: (result) => state.results.push(result),
    onChange: () => state.changes++,
  });
  return { keys, state, advance: (ms: number) => (clock += ms) };
}

const header = (kid: string) => ({ alg: 'ES256', kid });
const token = { payload: '', signature: '' };

test('an unknown kid prompts one fetch per minRefreshMs, however many tokens name one; concurrent lookups share a fetch', async () => {
  const { keys, state, advance } = harness();
  state.document = { keys: [await publicJwk('a')] };
  await keys.refresh();
  assert.equal(state.loads, 1);
  assert.ok(await keys.keyFor(header('a'), token));

  // Within minRefreshMs of the last fetch: refused at once, no fetch.
  for (let i = 0; i < 50; i++) await assert.rejects(keys.keyFor(header(`forged-${i}`), token), errors.JWKSNoMatchingKey);
  assert.equal(state.loads, 1);

  // Later: a new key was published (rotation); the first token naming it fetches, the others join that fetch.
  advance(5_000);
  state.document = { keys: [await publicJwk('a'), await publicJwk('b')] };
  const lookups = await Promise.allSettled([keys.keyFor(header('b'), token), keys.keyFor(header('b'), token), keys.keyFor(header('zzz'), token)]);
  assert.deepEqual(lookups.map((l) => l.status), ['fulfilled', 'fulfilled', 'rejected']);
  assert.equal(state.loads, 2);
  assert.equal(state.changes, 1, 'the verifier is told the key set changed');
});

test('a failed fetch keeps the keys held; an unknown kid is then 503 (keys unavailable), a known one still verifies', async () => {
  const { keys, state, advance } = harness();
  state.document = { keys: [await publicJwk('a')] };
  await keys.refresh();
  advance(10_000);
  state.fail = true;
  await assert.rejects(keys.keyFor(header('new'), token), KeysUnavailableError);
  assert.ok(await keys.keyFor(header('a'), token), 'the held key still answers');
  // Still inside minRefreshMs after the failure: no new fetch, the same answer.
  await assert.rejects(keys.keyFor(header('new'), token), KeysUnavailableError);
  assert.equal(state.loads, 2);
  assert.deepEqual(state.results, ['success', 'failure']);
});

test('a fetch that never answers is abandoned after timeoutMs even if the loader ignores its signal', async () => {
  const { keys, state } = harness({ timeoutMs: 50 });
  state.hang = true;
  // The loader never settles: that this lookup settles at all is the bound.
  await assert.rejects(keys.keyFor(header('a'), token), (error: Error) => error instanceof KeysUnavailableError && /not been fetched yet/.test(error.message));
  assert.equal(keys.ready, false);
  assert.deepEqual(state.results, ['failure']);
});

test('closing abandons a fetch under way (shutdown never waits on the issuer)', async () => {
  const { keys, state } = harness({ timeoutMs: 600_000 });
  state.hang = true;
  let settled = false;
  void keys.refresh().then(() => (settled = true));
  keys.close();
  // The loader never settles and the fetch timeout is ten minutes away: only the close can end it.
  await waitFor(() => settled, 'the fetch to be abandoned', 10_000);
  assert.deepEqual(state.results, ['failure']);
});

test('until keys are first held, a failed start is retried every minRefreshMs in the background (readiness does not wait for a request)', async (t) => {
  const { keys, state } = harness({ minRefreshMs: 20 });
  state.document = { keys: [await publicJwk('a')] };
  state.fail = true;
  keys.start();
  t.after(() => keys.close());
  await waitFor(() => state.loads >= 3, 'two retries after the failed start');
  assert.equal(keys.ready, false);
  state.fail = false;
  await waitFor(() => keys.ready, 'the keys once the issuer answers');
  const loads = state.loads;
  // Held now: no more retries (the next fetch is the background refresh, minutes away).
  await assert.rejects(waitFor(() => state.loads > loads, 'another fetch', 200), /timed out/);
});

test('a JWKS document is reduced to public signing keys, bounded in number, and refused when it has none', async () => {
  const signing = await publicJwk('s');
  assert.deepEqual(signingKeys({ keys: [signing, { ...signing, kid: 'e', use: 'enc' }, { kty: 'oct', k: 'c2VjcmV0' }, { ...signing, kid: 'p', d: 'private' }, null, 'x'] }), { keys: [signing] });
  assert.throws(() => signingKeys({ keys: [{ kty: 'oct', k: 'c2VjcmV0' }] }), /no public signing keys/);
  assert.throws(() => signingKeys({ nope: [] }), /no "keys" array/);
  assert.throws(() => signingKeys(Array.from({ length: 101 }, () => signing).reduce((doc, key) => ({ keys: [...doc.keys, key] }), { keys: [] as JWK[] })), /101 signing keys/);
});
