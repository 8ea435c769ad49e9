import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { runCli } from '../helpers/process.ts';
import { useTempDir } from '../helpers/temp.ts';

function config(server: string, metrics: string): string {
  return [`server: ${server}`, 'wallaroo: { url: https://wallaroo.example.com, auth: { clientSecret: s } }', 'pipelines: [{ name: ccfraud, workspace: w }]', `metrics: ${metrics}`].join('\n');
}

test('check-config and serve refuse metrics.port equal to server.port on overlapping hosts; distinct addresses are fine', async (t) => {
  const dir = useTempDir(t, 'gw-port-clash');
  const clash = join(dir, 'clash.yaml');
  writeFileSync(clash, config('{ host: 127.0.0.1, port: 8080 }', '{ port: 8080 }'));
  const expected =
    `wallaroo-gateway: GW_CONFIG_INVALID: invalid configuration in ${clash} (1 problem):\n` +
    '  - metrics.port: 8080 is also server.port: the metrics listener (0.0.0.0) and the traffic listener (127.0.0.1) cannot share it\n';

  const checked = await runCli(['check-config', '--config', clash]);
  assert.equal(checked.code, 1);
  assert.equal(checked.stderr, expected);
  const served = await runCli(['serve', '--config', clash]);
  assert.equal(served.code, 1);
  assert.equal(served.stderr, expected, 'serve refuses before it listens: no EADDRINUSE stack trace');

  // PORT overriding server.port onto the metrics port is the same clash.
  const viaEnv = join(dir, 'env.yaml');
  writeFileSync(viaEnv, config('{ host: 0.0.0.0, port: 8080 }', '{ port: 9090, host: 127.0.0.1 }'));
  const env = await runCli(['check-config', '--config', viaEnv], { PORT: '9090' });
  assert.equal(env.code, 1);
  assert.match(env.stderr, /- metrics\.port: 9090 is also PORT: the metrics listener \(127\.0\.0\.1\) and the traffic listener \(0\.0\.0\.0\) cannot share it\n$/);

  const apart = join(dir, 'apart.yaml');
  writeFileSync(apart, config('{ host: 127.0.0.1, port: 8080 }', '{ port: 8080, host: 127.0.0.2 }'));
  const fine = await runCli(['check-config', '--config', apart]);
  assert.equal(fine.code, 0, fine.stderr);
});
