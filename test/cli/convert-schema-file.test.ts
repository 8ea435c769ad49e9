import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { SAMPLES_DIR } from '../helpers/data.ts';
import { runCli } from '../helpers/process.ts';
import { useTempDir } from '../helpers/temp.ts';

test('convert: a --schema file that is not a column -> type mapping is one clear line naming the column, exit 1', async (t) => {
  const dir = useTempDir(t, 'gw-convert-schema');
  writeFileSync(join(dir, 'bad.yaml'), 'tensor: fixed_size_list<float33>[29]\n');
  const result = await runCli(['convert', join(SAMPLES_DIR, 'data_1.df.json'), join(dir, 'out.arrow'), '--schema', join(dir, 'bad.yaml')]);
  assert.equal(result.code, 1);
  assert.match(result.stderr, /^wallaroo-gateway: convert: --schema .*bad\.yaml: column "tensor": cannot read Arrow type "fixed_size_list<float33>\[29\]": .*\n$/);

  writeFileSync(join(dir, 'list.yaml'), '- tensor\n');
  const notMapping = await runCli(['convert', join(SAMPLES_DIR, 'data_1.df.json'), join(dir, 'out.arrow'), '--schema', join(dir, 'list.yaml')]);
  assert.equal(notMapping.code, 1);
  assert.equal(notMapping.stderr, `wallaroo-gateway: convert: --schema ${join(dir, 'list.yaml')} must be a mapping of column name to Arrow type, e.g. "tensor: fixed_size_list<float32>[29]" (docs/schema-file.md)\n`);
});
