import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError, parseConfig } from '../../src/config/load.ts';

// Issue 15, F11/F12: config refuses what would leak (userinfo in any URL, a URL that does not parse, an http token
// URL under an https Wallaroo, plain http or unverified TLS toward Wallaroo without allowInsecure), each problem
// with its path, the value hidden, never a crash or a stack trace.

const BASE = {
  wallaroo: { url: 'https://wallaroo.example.com', auth: { clientSecret: 'client-secret-value' } },
  pipelines: [{ name: 'p', workspace: 'w' }],
};

type Tree = Record<string, unknown>;
const withWallaroo = (wallaroo: Tree, rest: Tree = {}): Tree => ({ ...BASE, ...rest, wallaroo: { ...BASE.wallaroo, ...wallaroo } });

function problemsOf(tree: Tree): string[] {
  try {
    parseConfig(tree, {});
  } catch (error) {
    assert.ok(error instanceof ConfigError, `a ConfigError, not ${(error as Error).name}: ${(error as Error).message}`);
    assert.doesNotMatch(error.message, /SECRET|hunter2/, 'no secret in the message');
    assert.doesNotMatch(error.message, /\n\s+at /, 'no stack frames');
    return error.problems.map((p) => `${p.path}: ${p.message}`);
  }
  return [];
}

const USERINFO = 'must not carry a user name or password (value hidden): put credentials in the keys meant for them (clientSecret, clientSecretFile, mlops)';
const CLEAR = 'tokens and the client secret would cross the network in the clear';

test('URLs that would leak are refused with their paths and hidden values', () => {
  const cases: Array<[string, Tree, string[]]> = [
    ['a wallaroo.url that does not parse, with a password', withWallaroo({ url: 'https://user:SECRET@[bad' }), ['wallaroo.url: is not a valid URL (value hidden)']],
    ['userinfo in wallaroo.url', withWallaroo({ url: 'https://admin:SECRET@wallaroo.example.com' }), [`wallaroo.url: ${USERINFO}`]],
    ['userinfo in the token URL', withWallaroo({ auth: { clientSecret: 'x', tokenUrl: 'https://api-client:SECRET@keycloak.example.com/token' } }), [`wallaroo.auth.tokenUrl: ${USERINFO}`]],
    ['userinfo in a pipeline URL', { ...BASE, pipelines: [{ name: 'p', url: 'https://u:SECRET@wallaroo.example.com/infer' }] }, [`pipelines[0].url: ${USERINFO}`]],
    ['userinfo in the tracing endpoint', { ...BASE, tracing: { endpoint: 'http://u:hunter2@collector:4318/v1/traces' } }, [`tracing.endpoint: ${USERINFO}`]],
    ['userinfo in the JWKS URL', { ...BASE, callers: { authentication: 'kubernetes', kubernetes: { issuer: 'https://kubernetes.default.svc', jwksUrl: 'https://u:SECRET@kubernetes.default.svc/openid/v1/jwks' } } }, [`callers.kubernetes.jwksUrl: ${USERINFO}`]],
    ['a URL failing the schema pattern is not echoed', withWallaroo({ url: 'ftp://u:SECRET@host' }), ['wallaroo.url: must match pattern "^https?://[^\\s/?#]+(/[^\\s?#]*)?$" (got (value hidden))']],
    ['an http token URL under an https Wallaroo', withWallaroo({ auth: { clientSecret: 'x', tokenUrl: 'http://keycloak.example.com/token' } }), ['wallaroo.auth.tokenUrl: is plain http while wallaroo.url is https: the client secret would be sent in the clear; use https']],
    ['... even with allowInsecure', withWallaroo({ allowInsecure: true, auth: { clientSecret: 'x', tokenUrl: 'http://keycloak.example.com/token' } }), ['wallaroo.auth.tokenUrl: is plain http while wallaroo.url is https: the client secret would be sent in the clear; use https']],
    ['plain-http Wallaroo', withWallaroo({ url: 'http://wallaroo.example.com' }), [`wallaroo.url: is plain http on a non-loopback host: ${CLEAR}; use https, or set wallaroo.allowInsecure: true (a lab only)`]],
    ['certificate checks off', withWallaroo({ tls: { rejectUnauthorized: false } }), ["wallaroo.tls.rejectUnauthorized: is false, so any server could pose as Wallaroo and receive the secret; set wallaroo.tls.caFile for a private CA, or wallaroo.allowInsecure: true (a lab only)"]],
  ];
  for (const [name, tree, expected] of cases) assert.deepEqual(problemsOf(tree), expected, name);
});

test('plain http on loopback, and insecure settings with allowInsecure: true, are accepted', () => {
  for (const url of ['http://127.0.0.1:8081', 'http://localhost:8081', 'http://[::1]:8081']) {
    assert.deepEqual(problemsOf(withWallaroo({ url })), [], url);
  }
  const insecure = withWallaroo({ url: 'http://wallaroo.lab', allowInsecure: true, tls: { rejectUnauthorized: false } });
  assert.deepEqual(problemsOf(insecure), []);
  assert.equal(parseConfig(insecure, {}).wallaroo.allowInsecure, true);
});

test('a pipeline url with dot segments is refused: on the Wallaroo origin, it could still name any path there', () => {
  const pipelines = [{ name: 'p', url: 'https://wallaroo.example.com/infer/../auth/realms/master/protocol/openid-connect/token' }];
  assert.deepEqual(problemsOf({ ...BASE, pipelines }), ['pipelines[0].url: must not have "." or ".." path segments']);
  const encoded = [{ name: 'p', url: 'https://wallaroo.example.com/infer/%2E%2e/auth' }];
  assert.deepEqual(problemsOf({ ...BASE, pipelines: encoded }), ['pipelines[0].url: must not have "." or ".." path segments']);
  assert.deepEqual(problemsOf({ ...BASE, pipelines: [{ name: 'p', url: 'https://wallaroo.example.com/v1/api/pipelines/infer/p.v2-1/p.v2' }] }), []);
});
