import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { ConfigError, parseConfig } from '../../src/config/load.ts';
import { useTempDir } from '../helpers/temp.ts';

const base = (extra: Record<string, unknown> = {}) => ({
  wallaroo: { url: 'https://wallaroo.example.com', auth: { clientSecret: 's3cret' } },
  pipelines: [{ name: 'ccfraud', workspace: 'w' }],
  ...extra,
});

function problems(tree: unknown): Map<string, string> {
  try {
    parseConfig(tree, {}, '/nonexistent-base');
  } catch (error) {
    assert.ok(error instanceof ConfigError);
    return new Map(error.problems.map((p) => [p.path, p.message]));
  }
  assert.fail('expected the config to be refused');
}

test('callers: kubernetes with every default; keys from the issuer\'s discovery document; the allow list in force per pipeline', () => {
  const config = parseConfig(base({
    callers: { authentication: 'kubernetes', kubernetes: { issuer: 'https://kubernetes.default.svc.cluster.local/' } },
    pipelines: [{ name: 'a', workspace: 'w', allow: ['payments/*'] }, { name: 'b', workspace: 'w' }],
    rateLimit: { keyBy: 'identity' },
  }), {});
  assert.deepEqual(config.callers, {
    authentication: 'kubernetes',
    identityMetricLabel: false,
    mtls: null,
    kubernetes: {
      issuer: 'https://kubernetes.default.svc.cluster.local/',
      audience: 'wallaroo-gateway',
      keys: { source: 'discovery', url: 'https://kubernetes.default.svc.cluster.local/.well-known/openid-configuration' },
      caFile: null,
      bearerTokenFile: null,
      clockSkewSeconds: 30,
      keysRefreshMs: 300_000,
      keysMinRefreshMs: 5_000,
      keysTimeoutMs: 3_000,
    },
  });
  assert.deepEqual(config.pipelines.map((p) => p.allow), [['payments/*'], ['*']]);
  assert.deepEqual(config.rateLimit.keyBy, { kind: 'identity' });
});

test('settings that would leave callers silently unverified, and bad patterns, are problems with their paths', () => {
  const found = problems(base({
    pipelines: [{ name: 'a', workspace: 'w', allow: ['payments/scorer'] }],
    callers: { kubernetes: { issuer: 'https://k8s.example' }, allow: ['nope'] },
    rateLimit: { keyBy: 'identity' },
  }));
  assert.equal(found.get('pipelines[0].allow'), 'needs callers.authentication (kubernetes or mtls): without it no caller is identified, so nothing could be allowed or refused');
  assert.equal(found.get('callers.kubernetes'), 'is set but callers.authentication is none: set authentication: kubernetes, or remove the block');
  assert.equal(found.get('rateLimit.keyBy'), 'identity needs callers.authentication (kubernetes or mtls)');
  assert.match(found.get('callers.allow[0]') ?? '', /^"nope" must be namespace\/name/);

  const more = problems(base({
    callers: { authentication: 'kubernetes', kubernetes: { issuer: 'http://k8s.example', audience: 'http://k8s.example/' } },
    pipelines: [{ name: 'a', workspace: 'w', allow: ['payments/scorer', 'Bad/Name', 'spiffe://td/*/x'] }],
  }));
  assert.equal(more.get('callers.kubernetes.issuer'), 'must be an https URL (plain http is accepted only on a loopback address): keys fetched in the clear could be replaced');
  assert.match(more.get('callers.kubernetes.audience') ?? '', /^must not be the issuer/);
  assert.match(more.get('pipelines[0].allow[1]') ?? '', /"Bad" is not a Kubernetes namespace name/);
  assert.equal(more.has('pipelines[0].allow[2]'), false, 'a SPIFFE pattern with a * segment is fine');

  const missing = problems(base({ callers: { authentication: 'mtls' } }));
  assert.match(missing.get('callers.mtls') ?? '', /^is required when callers.authentication is mtls/);
  assert.match(missing.get('server.tls') ?? '', /^is required when callers.authentication is mtls/);
  assert.match(problems(base({ callers: { authentication: 'kubernetes' } })).get('callers.kubernetes') ?? '', /^is required/);
});

test('files named by callers and server.tls must be readable; jwksUrl and jwksFile exclude each other', (t) => {
  const dir = useTempDir(t, 'gw-callers-config');
  writeFileSync(join(dir, 'jwks.json'), '{"keys":[]}');
  const found = problems(base({
    server: { tls: { certFile: join(dir, 'missing.crt'), keyFile: join(dir, 'missing.key') } },
    callers: {
      authentication: 'kubernetes',
      kubernetes: { issuer: 'https://k8s.example', jwksUrl: 'https://k8s.example/openid/v1/jwks', jwksFile: join(dir, 'jwks.json'), caFile: join(dir, 'ca.crt'), bearerTokenFile: join(dir, 'token') },
    },
  }));
  assert.match(found.get('server.tls.certFile') ?? '', /^cannot read .*missing\.crt \(ENOENT\)$/);
  assert.match(found.get('server.tls.keyFile') ?? '', /ENOENT/);
  assert.equal(found.get('callers.kubernetes.jwksFile'), 'set jwksUrl or jwksFile, not both');
  assert.match(found.get('callers.kubernetes.caFile') ?? '', /ENOENT/);
  assert.match(found.get('callers.kubernetes.bearerTokenFile') ?? '', /ENOENT/);

  const fromFile = parseConfig(base({ callers: { authentication: 'kubernetes', kubernetes: { issuer: 'https://k8s.example', jwksFile: 'jwks.json' } } }), {}, dir);
  assert.deepEqual(fromFile.callers.kubernetes?.keys, { source: 'file', path: join(dir, 'jwks.json') });
  const local = parseConfig(base({ callers: { authentication: 'kubernetes', kubernetes: { issuer: 'http://127.0.0.1:6443' } } }), {});
  assert.equal(local.callers.kubernetes?.keys.source, 'discovery', 'plain http is accepted on loopback (tests, a local proxy)');
});
