import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { ConfigError, parseConfig, parseConfigText } from '../../src/config/load.ts';
import { useTempDir } from '../helpers/temp.ts';

const minimal = () => ({
  wallaroo: { url: 'https://wallaroo.example.com', auth: { clientSecret: 's3cret' } },
  pipelines: [{ name: 'ccfraud', workspace: 'urlworkspace', pipeline: 'urlpipeline' }],
});

function problems(tree: unknown, env: Record<string, string> = {}): Array<{ path: string; message: string }> {
  try {
    parseConfig(tree, env);
  } catch (error) {
    assert.ok(error instanceof ConfigError);
    assert.equal(error.code, 'GW_CONFIG_INVALID');
    return error.problems;
  }
  assert.fail('expected the config to be refused');
}

test('a minimal config gets every default from the spec', () => {
  const config = parseConfig(minimal(), {});
  assert.deepEqual(config.server, {
    host: '0.0.0.0', port: 8080, bodyLimit: 64 * 1024 * 1024, openAiBodyLimit: 1024 * 1024, openAiStreamTimeoutMs: 600_000, openAiEventLimit: 1024 * 1024, bodyTimeoutMs: 30_000, headersTimeoutMs: 10_000, shutdownGraceMs: 25_000, drainDelayMs: 5_000, bufferBudget: 256 * 1024 * 1024,
    maxEventLoopDelayMs: 1_000, trustProxy: [], tls: null,
  });
  assert.deepEqual(config.conversion, {
    maxColumns: 1000, maxJsonDepth: 32, maxJsonContainers: 4 * 1024 * 1024, maxElements: 32 * 1024 * 1024, maxOutputBytes: 256 * 1024 * 1024,
  });
  assert.equal(config.wallaroo.auth.tokenUrl, 'https://wallaroo.example.com/auth/realms/master/protocol/openid-connect/token');
  assert.equal(config.wallaroo.auth.clientId, 'api-client');
  assert.deepEqual(config.wallaroo.auth.clientSecret, { source: 'inline', value: 's3cret' });
  assert.equal(config.wallaroo.auth.refreshBeforeExpirySeconds, 60);
  assert.equal(config.wallaroo.auth.requestTimeoutMs, 5_000);
  assert.equal(config.wallaroo.mlops, null);
  assert.deepEqual(config.discovery, { ttlSeconds: 300, maxEntries: 1000, negativeTtlSeconds: 5, timeoutMs: 10_000 });
  assert.deepEqual(config.pipelines[0], {
    name: 'ccfraud', workspace: 'urlworkspace', pipeline: 'urlpipeline', url: null, timeoutMs: 30_000, connectTimeoutMs: 5_000,
    upstreamFormat: 'passthrough', inputSchema: null, rateLimit: null, maxConcurrency: 64, maxQueue: 256,
    maxRetries: 2, circuitBreaker: { failureThreshold: 5, cooldownMs: 10_000 }, example: null, allow: null, batching: null,
  });
  assert.deepEqual(config.callers, { authentication: 'none', identityMetricLabel: false, kubernetes: null, mtls: null });
  assert.deepEqual(config.rateLimit.keyBy, { kind: 'ip' });
  assert.equal(config.metrics.port, null);
  assert.deepEqual(config.ui, { enabled: true, port: 'main' });
  assert.deepEqual(config.tracing, {
    enabled: false, endpoint: 'http://127.0.0.1:4318/v1/traces', serviceName: 'wallaroo-gateway', sampleRatio: 1,
    maxQueueSize: 2048, maxExportBatchSize: 512, exportIntervalMs: 5_000, exportTimeoutMs: 10_000,
  });
});

test('unknown keys and bad values are all reported, each with its path', () => {
  const tree = minimal() as Record<string, unknown>;
  (tree.wallaroo as Record<string, unknown>).colour = 'blue';
  tree.pipelines = [{ name: 'a/b', workspace: 'w', timeoutMs: -1, upstreamFormat: 'xml', extra: 1 }];
  tree.logging = { level: 'loud' };
  tree.server = { port: 70000 };
  const found = problems(tree);
  const byPath = new Map(found.map((p) => [p.path, p.message]));
  assert.equal(byPath.get('wallaroo.colour'), 'unknown key');
  assert.equal(byPath.get('pipelines[0].extra'), 'unknown key');
  assert.match(byPath.get('pipelines[0].name') ?? '', /must match pattern/);
  assert.match(byPath.get('pipelines[0].timeoutMs') ?? '', />= 1/);
  assert.equal(byPath.get('pipelines[0].upstreamFormat'), 'must be one of "passthrough", "arrow", "json"');
  assert.match(byPath.get('logging.level') ?? '', /must be one of "fatal"/);
  assert.match(byPath.get('server.port') ?? '', /<= 65535/);
  assert.equal(found.length, 7);
});

test('missing environment variables are reported together with schema problems', () => {
  const found = problems({ wallaroo: { url: '${WALLAROO_URL}', auth: { clientSecret: '${SECRET}' } }, pipelines: [{ name: 'p', workspace: 1 }] });
  assert.deepEqual(found.slice(0, 2), [
    { path: 'wallaroo.url', message: 'environment variable WALLAROO_URL is not set' },
    { path: 'wallaroo.auth.clientSecret', message: 'environment variable SECRET is not set' },
  ]);
  assert.ok(found.some((p) => p.path === 'wallaroo.url' && /pattern/.test(p.message)));
});

test('secrets: exactly one of the value and its ...File form, and the file must be readable', (t) => {
  const both = minimal();
  (both.wallaroo.auth as Record<string, unknown>).clientSecretFile = '/nonexistent/secret';
  assert.deepEqual(problems(both), [{ path: 'wallaroo.auth.clientSecretFile', message: 'set clientSecret or clientSecretFile, not both' }]);

  const neither = minimal();
  delete (neither.wallaroo.auth as Record<string, unknown>).clientSecret;
  assert.deepEqual(problems(neither), [{ path: 'wallaroo.auth.clientSecret', message: 'is required (or clientSecretFile)' }]);

  const unreadable = minimal();
  unreadable.wallaroo.auth = { clientSecretFile: '/nonexistent/secret' } as never;
  assert.deepEqual(problems(unreadable), [{ path: 'wallaroo.auth.clientSecretFile', message: 'cannot read /nonexistent/secret (ENOENT)' }]);

  const dir = useTempDir(t, 'gw-secret');
  writeFileSync(join(dir, 'secret'), 'from-file\n');
  const fromFile = minimal();
  fromFile.wallaroo.auth = { clientSecretFile: join(dir, 'secret') } as never;
  assert.deepEqual(parseConfig(fromFile, {}).wallaroo.auth.clientSecret, { source: 'file', path: join(dir, 'secret') });
});

test('pipelines: unique names, a workspace unless url is set, url on the Wallaroo origin, readable inputSchema', () => {
  const tree = minimal();
  tree.pipelines = [
    { name: 'a', workspace: 'w' },
    { name: 'a', workspace: 'w' },
    { name: 'b' },
    { name: 'c', url: 'https://evil.example.net/v1/api/pipelines/infer/x-1/x' },
    { name: 'd', workspace: 'w', inputSchema: { tensor: 'fixed_size_list<float32>' } },
  ] as never;
  const byPath = new Map(problems(tree).map((p) => [p.path, p.message]));
  assert.equal(byPath.get('pipelines[1].name'), 'duplicates pipelines[0].name "a"');
  assert.equal(byPath.get('pipelines[2].workspace'), 'is required unless url is set');
  assert.equal(byPath.get('pipelines[3].url'), 'must be on the Wallaroo origin https://wallaroo.example.com');
  assert.match(byPath.get('pipelines[4].inputSchema.tensor') ?? '', /expected "\["/);
});

test('units, numeric strings from the environment, and PORT override', () => {
  const tree = minimal() as Record<string, unknown>;
  tree.server = { bodyLimit: '2MiB', port: '${GW_PORT}' };
  tree.pipelines = [{ name: 'p', workspace: '${WS_ID}', rateLimit: { max: 5, timeWindow: '1m' } }];
  const config = parseConfig(tree, { GW_PORT: '9000', WS_ID: '7' });
  assert.equal(config.server.bodyLimit, 2 * 1024 * 1024);
  assert.equal(config.server.port, 9000);
  assert.equal(config.pipelines[0]!.workspace, 7);
  assert.deepEqual(config.pipelines[0]!.rateLimit, { max: 5, timeWindowMs: 60_000 });
  assert.equal(parseConfig(tree, { GW_PORT: '9000', WS_ID: '7', PORT: '7070' }).server.port, 7070);
  assert.deepEqual(problems(tree, { GW_PORT: '9000', WS_ID: '7', PORT: 'eighty' }), [
    { path: 'PORT', message: 'environment variable PORT is not a port number: "eighty"' },
  ]);
});

test('YAML syntax errors name their line and column, and say what is wrong', () => {
  assert.throws(() => parseConfigText('server:\n  port: 1\n   bad: [', {}), (error: unknown) => {
    assert.ok(error instanceof ConfigError);
    assert.match(error.problems[0]!.path, /^line \d+, column \d+$/);
    // The reason, complete: not cut off at the colon before the source excerpt the yaml package appends.
    assert.match(error.problems[0]!.message, /^YAML syntax: \S.*[^:]$/);
    return true;
  });
});

test('ui, tracing and server.trustProxy: bad entries are reported with their paths', () => {
  const schema = minimal() as Record<string, unknown>;
  schema.tracing = { enabled: true, endpoint: 'grpc://collector:4317', sampleRatio: 1.5 };
  schema.ui = { port: 'sidecar' };
  assert.deepEqual(problems(schema).map((p) => p.path).sort(), ['tracing.endpoint', 'tracing.sampleRatio', 'ui.port']);

  // Checks the schema cannot express, all reported together once it holds.
  const tree = minimal() as Record<string, unknown>;
  tree.server = { trustProxy: ['10.0.0.0/8', 'loopback', 'fd00::/200', 'proxy.internal', '192.168.1.1/8/1'] };
  tree.ui = { port: 'metrics' };
  tree.tracing = { maxQueueSize: 10, maxExportBatchSize: 20 };
  assert.deepEqual(problems(tree), [
    { path: 'server.trustProxy[2]', message: '"fd00::/200" has a prefix length out of range' },
    { path: 'server.trustProxy[3]', message: '"proxy.internal" is not an IP address, a CIDR or one of loopback, linklocal, uniquelocal' },
    { path: 'server.trustProxy[4]', message: '"192.168.1.1/8/1" is not an IP address, a CIDR or one of loopback, linklocal, uniquelocal' },
    { path: 'ui.port', message: 'is metrics, but metrics.port is not set (the status page would have no listener)' },
    { path: 'tracing.maxExportBatchSize', message: 'must not exceed tracing.maxQueueSize (10)' },
  ]);
  const good = parseConfig({ ...minimal(), server: { trustProxy: ['10.0.0.0/8', '::1', 'uniquelocal'] }, ui: { enabled: false }, metrics: { port: 9090 } }, {});
  assert.deepEqual(good.server.trustProxy, ['10.0.0.0/8', '::1', 'uniquelocal']);
  assert.deepEqual(good.ui, { enabled: false, port: 'main' });
});
