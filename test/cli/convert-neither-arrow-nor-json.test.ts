import assert from 'node:assert/strict';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { runCli } from '../helpers/process.ts';
import { useTempDir } from '../helpers/temp.ts';

// Input without Arrow's magic is not therefore JSON: a file that is neither is said to be neither (exit 2), not
// "already pandas-records JSON: nothing to convert", nor read as JSON when its name says Arrow.

test('convert: an input that is neither Arrow IPC nor JSON is named as such, exit 2, nothing written', async (t) => {
  const dir = useTempDir(t, 'gw-convert-neither');
  const garbage = join(dir, 'g.arrow');
  writeFileSync(garbage, 'PK\u0003\u0004 this is a zip, not a table');
  for (const output of ['x.json', 'x.arrow']) {
    const result = await runCli(['convert', garbage, join(dir, output)]);
    assert.equal(result.code, 2, output);
    assert.equal(result.stderr, `wallaroo-gateway: convert: ${garbage} is neither Arrow IPC (no ARROW1 or stream magic) nor JSON: nothing to convert\n`, output);
    assert.equal(existsSync(join(dir, output)), false, output);
  }
});
