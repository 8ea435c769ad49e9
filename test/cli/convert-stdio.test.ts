import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { readArrow } from '../../src/convert/index.ts';
import { sample, SAMPLES_DIR } from '../helpers/data.ts';
import { ROOT, runCli } from '../helpers/process.ts';
import { useTempDir } from '../helpers/temp.ts';

test('convert: - reads stdin and - writes stdout (no file named "-"), the summary then on stderr', async (t) => {
  const dir = useTempDir(t, 'gw-convert-stdio');
  const schema = join(dir, 'schema.yaml');
  writeFileSync(schema, 'tensor: fixed_size_list<float32>[29]\n');

  // cat cc_data_1k.df.json | convert - out.arrow --schema schema.yaml
  const fromStdin = await runCli(['convert', '-', join(dir, 'out.arrow'), '--schema', schema], {}, 30_000, sample('cc_data_1k.df.json'));
  assert.equal(fromStdin.code, 0, fromStdin.stderr);
  assert.equal(fromStdin.stdout, `stdin (json) -> ${join(dir, 'out.arrow')} (arrow-file), ${readFileSync(join(dir, 'out.arrow')).length} bytes\n`);
  const table = readArrow(readFileSync(join(dir, 'out.arrow')));
  assert.equal(table.numRows, 1001);
  assert.equal(String(table.schema.fields[0]!.type), 'FixedSizeList[29]<Float32>');

  // convert cc_data_1k.arrow -   (JSON on stdout: the other format, as no extension says otherwise)
  const toStdout = await runCli(['convert', join(SAMPLES_DIR, 'cc_data_1k.arrow'), '-']);
  assert.equal(toStdout.code, 0, toStdout.stderr);
  const rows = JSON.parse(toStdout.stdout) as Array<{ tensor: number[] }>;
  assert.equal(rows.length, 1001);
  assert.equal(rows[0]!.tensor.length, 29);
  assert.match(toStdout.stderr, /cc_data_1k\.arrow \(arrow-file\) -> stdout \(json\), \d+ bytes\n$/);
  assert.equal(existsSync(join(ROOT, '-')), false, 'no file named "-"');

  // Both ends at once, Arrow on stdout when asked.
  const pipe = await runCli(['convert', '-', '-', '--to', 'arrow', '--schema', schema], {}, 30_000, sample('cc_data_high_confidence.df.json'));
  assert.equal(pipe.code, 0, pipe.stderr);
  assert.equal(pipe.stdoutBytes.subarray(0, 6).toString('latin1'), 'ARROW1');
  assert.equal(readArrow(pipe.stdoutBytes).numRows, (JSON.parse(sample('cc_data_high_confidence.df.json').toString()) as unknown[]).length);
});
