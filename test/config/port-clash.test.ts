import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError, parseConfig } from '../../src/config/load.ts';

const base = { wallaroo: { url: 'https://wallaroo.example.com', auth: { clientSecret: 's' } }, pipelines: [{ name: 'p', workspace: 'w' }] };

function clashes(serverHost: string, metricsHost: string, port = 8080, metricsPort = 8080): boolean {
  try {
    parseConfig({ ...base, server: { host: serverHost, port }, metrics: { host: metricsHost, port: metricsPort } }, {});
    return false;
  } catch (error) {
    assert.ok(error instanceof ConfigError);
    assert.deepEqual(error.problems.map((p) => p.path), ['metrics.port']);
    return true;
  }
}

test('metrics.port == server.port is a config problem when the two addresses overlap (same, wildcard, localhost)', () => {
  for (const [server, metrics] of [['0.0.0.0', '0.0.0.0'], ['127.0.0.1', '0.0.0.0'], ['0.0.0.0', '10.1.2.3'], ['::', '127.0.0.1'], ['localhost', '127.0.0.1'], ['[::1]', '::1']] as const) {
    assert.equal(clashes(server, metrics), true, `${server} / ${metrics}`);
  }
  for (const [server, metrics] of [['127.0.0.1', '127.0.0.2'], ['10.0.0.1', '10.0.0.2']] as const) {
    assert.equal(clashes(server, metrics), false, `${server} / ${metrics}`);
  }
  assert.equal(clashes('0.0.0.0', '0.0.0.0', 8080, 9090), false, 'different ports');
  assert.equal(clashes('0.0.0.0', '0.0.0.0', 0, 0), false, 'port 0: each listener gets its own ephemeral port');
});
