import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { runCli } from '../helpers/process.ts';
import { useTempDir } from '../helpers/temp.ts';

// Issue 15, F12: `wallaroo.url: "https://user:SECRET@[bad"` passed the schema's pattern and crashed `serve` with a
// stack trace that printed the password. Now both commands list the problem with its path, the value hidden.

test('serve and check-config refuse a wallaroo.url that does not parse, without a crash or the password', async (t) => {
  const dir = useTempDir(t, 'gw-bad-url');
  const file = join(dir, 'gateway.yaml');
  writeFileSync(file, [
    'wallaroo:',
    '  url: "https://user:SECRET@[bad"',
    '  auth: { clientSecret: x }',
    'pipelines:',
    '  - { name: p, workspace: w }',
  ].join('\n'));
  for (const command of ['serve', 'check-config']) {
    const result = await runCli([command, '--config', file]);
    assert.equal(result.code, 1, `${command}: ${result.stderr}`);
    assert.equal(result.stderr, `wallaroo-gateway: GW_CONFIG_INVALID: invalid configuration in ${file} (1 problem):\n  - wallaroo.url: is not a valid URL (value hidden)\n`, command);
    assert.doesNotMatch(result.stdout + result.stderr, /SECRET/, command);
  }
});
