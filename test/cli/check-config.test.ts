import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { ROOT, runCli } from '../helpers/process.ts';
import { useTempDir } from '../helpers/temp.ts';

test('check-config: a valid file exits 0 and names its pipelines', async () => {
  const result = await runCli(['check-config', '--config', join(ROOT, 'config.example.yaml')], { WALLAROO_CLIENT_SECRET: 'x' });
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stdout, /config\.example\.yaml: valid \(1 pipeline: ccfraud\)/);
});

test('check-config: every problem is printed with its path, exit 1', async (t) => {
  const dir = useTempDir(t, 'gw-config');
  const file = join(dir, 'bad.yaml');
  writeFileSync(file, [
    'server: { port: 99999, colour: red }',
    'wallaroo:',
    '  url: ${WALLAROO_URL}',
    '  auth: { clientSecretFile: ./missing-secret }',
    'pipelines:',
    '  - { name: ok, workspace: w, upstreamFormat: csv }',
  ].join('\n'));
  const result = await runCli(['check-config', '--config', file]);
  assert.equal(result.code, 1);
  assert.equal(result.stdout, '');
  assert.match(result.stderr, /^wallaroo-gateway: GW_CONFIG_INVALID: invalid configuration in .*bad\.yaml \(\d+ problems\):/);
  for (const expected of [
    /- wallaroo\.url: environment variable WALLAROO_URL is not set/,
    /- server\.port: must be <= 65535/,
    /- server\.colour: unknown key/,
    /- pipelines\[0\]\.upstreamFormat: must be one of "passthrough", "arrow", "json"/,
  ]) assert.match(result.stderr, expected);
  assert.doesNotMatch(result.stderr, /at .*\.ts:\d+/, 'no stack trace');
});

test('check-config: an unreadable config file is a clear message, exit 1', async () => {
  const result = await runCli(['check-config', '--config', '/nonexistent/gateway.yaml']);
  assert.equal(result.code, 1);
  assert.match(result.stderr, /cannot read config file \/nonexistent\/gateway\.yaml \(ENOENT\)/);
});
