import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { runCli } from '../helpers/process.ts';
import { useTempDir } from '../helpers/temp.ts';

// An unreadable file is named in one clear line (a config problem: with its path), exit 1, never a stack trace.

test('serve: an unreadable config file', async () => {
  const result = await runCli(['serve', '--config', '/nonexistent/gateway.yaml']);
  assert.equal(result.code, 1);
  assert.equal(result.stderr, 'wallaroo-gateway: cannot read config file /nonexistent/gateway.yaml (ENOENT)\n');
  assert.equal(result.stdout, '');
});

test('serve --simulate: an unreadable secret file is a config problem with its path', async (t) => {
  const dir = useTempDir(t, 'gw-start');
  const file = join(dir, 'gateway.yaml');
  writeFileSync(file, ['wallaroo: { url: "http://127.0.0.1:9", auth: { clientSecretFile: ./missing } }', 'pipelines: [{ name: ccfraud, workspace: demo }]'].join('\n'));
  const result = await runCli(['serve', '--simulate', '--config', file]);
  assert.equal(result.code, 1);
  assert.equal(result.stderr, `wallaroo-gateway: GW_CONFIG_INVALID: invalid configuration in ${file} (1 problem):\n  - wallaroo.auth.clientSecretFile: cannot read ${join(dir, 'missing')} (ENOENT)\n`);
});
