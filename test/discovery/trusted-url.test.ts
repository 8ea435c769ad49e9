import assert from 'node:assert/strict';
import { test } from 'node:test';
import { assertTrustedUrl } from '../../src/discovery/trust.ts';

test('a resolved URL must be on the configured Wallaroo origin (SSRF guard)', () => {
  const origin = 'https://wallaroo.example.com';
  assert.equal(assertTrustedUrl('https://wallaroo.example.com/v1/api/pipelines/infer/p-260/p', origin).pathname, '/v1/api/pipelines/infer/p-260/p');
  const refused = [
    'https://evil.example.com/v1/api/pipelines/infer/p-1/p',
    'https://wallaroo.example.com:8443/x',
    'http://wallaroo.example.com/x',
    'https://user:pw@wallaroo.example.com/x',
    'https://wallaroo.example.com.evil.net/x',
    'file:///etc/passwd',
    'not a url',
  ];
  for (const url of refused) {
    assert.throws(() => assertTrustedUrl(url, origin), { code: 'GW_DISCOVERY_UNTRUSTED_URL' }, url);
  }
});

test('plain http is accepted only where the configured Wallaroo is itself http', () => {
  assert.equal(assertTrustedUrl('http://127.0.0.1:9000/x', 'http://127.0.0.1:9000').host, '127.0.0.1:9000');
  assert.throws(() => assertTrustedUrl('http://127.0.0.1:9000/x', 'https://127.0.0.1:9000'), { code: 'GW_DISCOVERY_UNTRUSTED_URL' });
});

test('a resolved URL with dot segments is refused: on the origin, it could still point at any path there (the token endpoint)', () => {
  const origin = 'https://wallaroo.example.com';
  const refused = [
    'https://wallaroo.example.com/infer/../auth/realms/master/protocol/openid-connect/token',
    'https://wallaroo.example.com/infer/%2e%2e/auth/realms/master/protocol/openid-connect/token',
    'https://wallaroo.example.com/infer/.%2E/auth',
    'https://wallaroo.example.com/infer/./x',
    'https://wallaroo.example.com/infer\\..\\auth',
    'https://wallaroo.example.com/..',
    'https://wallaroo.example.com/infer/..?x=1',
  ];
  for (const url of refused) {
    assert.throws(() => assertTrustedUrl(url, origin), { code: 'GW_DISCOVERY_UNTRUSTED_URL', message: 'the resolved inference URL has "." or ".." path segments' }, url);
  }
  // Dots inside a segment are names, not dot segments.
  for (const path of ['/v1/api/pipelines/infer/p.v2-1/p.v2', '/x/...', '/x/.well-known/y', '/a..b/c']) {
    assert.equal(assertTrustedUrl(`https://wallaroo.example.com${path}`, origin).pathname, path);
  }
});
