import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { SAMPLES_DIR } from '../helpers/data.ts';
import { runCli } from '../helpers/process.ts';
import { useTempDir } from '../helpers/temp.ts';

test('convert to Arrow without --schema warns on stderr naming each inferred type; with --schema it does not', async (t) => {
  const dir = useTempDir(t, 'gw-convert-warn');
  const inferred = await runCli(['convert', join(SAMPLES_DIR, 'cc_data_high_confidence.df.json'), join(dir, 'out.arrow')]);
  assert.equal(inferred.code, 0, inferred.stderr);
  assert.equal(
    inferred.stderr,
    'warning: no --schema, so the column types were inferred from the JSON: tensor: list<float64>. ' +
      "Wallaroo refuses a table whose types differ from the model's (float32 lists, usually): write them in a schema file (docs/schema-file.md) and pass --schema FILE\n",
  );
  assert.match(inferred.stdout, /\(json\) -> .*out\.arrow \(arrow-file\)/);

  writeFileSync(join(dir, 'schema.yaml'), 'tensor: fixed_size_list<float32>[29]\n');
  const typed = await runCli(['convert', join(SAMPLES_DIR, 'cc_data_high_confidence.df.json'), join(dir, 'typed.arrow'), '--schema', join(dir, 'schema.yaml')]);
  assert.equal(typed.code, 0, typed.stderr);
  assert.equal(typed.stderr, '');
});
