import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { readArrow } from '../../src/convert/index.ts';
import { SAMPLES_DIR } from '../helpers/data.ts';
import { runCli } from '../helpers/process.ts';
import { useTempDir } from '../helpers/temp.ts';

test('convert: pandas-records JSON -> Arrow with a schema file, and back, offline', async (t) => {
  const dir = useTempDir(t, 'gw-convert');
  writeFileSync(join(dir, 'schema.yaml'), 'tensor: fixed_size_list<float32>[29]\n');
  const toArrow = await runCli(['convert', join(SAMPLES_DIR, 'cc_data_1k.df.json'), join(dir, 'out.arrow'), '--schema', join(dir, 'schema.yaml')]);
  assert.equal(toArrow.code, 0, toArrow.stderr);
  assert.match(toArrow.stdout, /\(json\) -> .*out\.arrow \(arrow-file\)/);
  const table = readArrow(readFileSync(join(dir, 'out.arrow')));
  assert.deepEqual(table.schema.fields.map((f) => `${f.name}:${f.type}`), ['tensor:FixedSizeList[29]<Float32>']);
  assert.equal(table.numRows, 1001);

  const toJson = await runCli(['convert', join(dir, 'out.arrow'), join(dir, 'back.json'), '--to', 'json']);
  assert.equal(toJson.code, 0, toJson.stderr);
  assert.equal((JSON.parse(readFileSync(join(dir, 'back.json'), 'utf8')) as unknown[]).length, 1001);
});

test('convert: bad input is a coded message and exit 1, never a stack trace', async (t) => {
  const dir = useTempDir(t, 'gw-convert');
  writeFileSync(join(dir, 'bad.json'), '[{"a": 1}, {"a": "x"}]');
  const result = await runCli(['convert', join(dir, 'bad.json'), join(dir, 'out.arrow')]);
  assert.equal(result.code, 1);
  assert.equal(result.stderr, 'wallaroo-gateway: GW_SCHEMA_MISMATCH: row 1, column "a": mixed types: int and string "x"\n');
});
