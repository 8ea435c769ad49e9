import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { runCli } from '../helpers/process.ts';
import { useTempDir } from '../helpers/temp.ts';

// A YAML syntax error names its line and column and says what is wrong; nothing is cut off after a colon, and the
// source line is not echoed (it may hold a secret).

test('a YAML syntax error is reported with its line, column and reason', async (t) => {
  const dir = useTempDir(t, 'gw-yaml-syntax');
  const file = join(dir, 'gateway.yaml');
  writeFileSync(file, ['server:', '  port: 8080', 'wallaroo: {', '  url: https://wallaroo.example.com', ''].join('\n'));
  const result = await runCli(['check-config', '--config', file]);
  assert.equal(result.code, 1);
  assert.equal(result.stdout, '');
  assert.equal(
    result.stderr,
    `wallaroo-gateway: GW_CONFIG_INVALID: invalid configuration in ${file} (1 problem):\n` +
      '  - line 5, column 1: YAML syntax: Flow map in block collection must be sufficiently indented and end with a }\n',
  );
});
