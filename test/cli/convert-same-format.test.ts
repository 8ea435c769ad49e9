import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { arrowToJson, readArrow } from '../../src/convert/index.ts';
import { sample, SAMPLES_DIR } from '../helpers/data.ts';
import { runCli } from '../helpers/process.ts';
import { useTempDir } from '../helpers/temp.ts';

test('convert: JSON -> JSON and Arrow -> the same Arrow framing are refused (exit 2, nothing written); no bytes are copied blindly', async (t) => {
  const dir = useTempDir(t, 'gw-convert-same');
  const json = await runCli(['convert', join(SAMPLES_DIR, 'data_1.df.json'), join(dir, 'copy.json')]);
  assert.equal(json.code, 2);
  assert.equal(json.stderr, `wallaroo-gateway: convert: ${join(SAMPLES_DIR, 'data_1.df.json')} is already pandas-records JSON: nothing to convert (to Arrow: --to arrow, or an .arrow OUT)\n`);
  assert.equal(existsSync(join(dir, 'copy.json')), false);

  // A corrupt Arrow file (no closing magic) named .json is not "converted" by copying it.
  const corrupt = join(dir, 'corrupt.arrow');
  writeFileSync(corrupt, sample('cc_data_1k.arrow').subarray(0, 5_000));
  const fromCorrupt = await runCli(['convert', corrupt, join(dir, 'out.json')]);
  assert.equal(fromCorrupt.code, 1);
  assert.equal(fromCorrupt.stderr, 'wallaroo-gateway: GW_INVALID_ARROW: the Arrow IPC file is truncated: its closing "ARROW1" magic is missing\n');
  assert.equal(existsSync(join(dir, 'out.json')), false);

  const arrow = await runCli(['convert', join(SAMPLES_DIR, 'cc_data_1k.arrow'), join(dir, 'copy.arrow')]);
  assert.equal(arrow.code, 2);
  assert.match(arrow.stderr, /is already Arrow IPC file: nothing to convert \(to JSON: --to json, or a \.json OUT\)\n$/);
  assert.equal(existsSync(join(dir, 'copy.arrow')), false);
});

test('convert: Arrow file -> Arrow stream really reads and rewrites the table', async (t) => {
  const dir = useTempDir(t, 'gw-convert-stream');
  const result = await runCli(['convert', join(SAMPLES_DIR, 'cc_data_1k.arrow'), join(dir, 'out.arrows'), '--to', 'arrow-stream']);
  assert.equal(result.code, 0, result.stderr);
  const written = readFileSync(join(dir, 'out.arrows'));
  assert.deepEqual([...written.subarray(0, 4)], [0xff, 0xff, 0xff, 0xff], 'an IPC stream, not the file copied');
  assert.equal(readArrow(written).numRows, 1001);
  assert.deepEqual(arrowToJson(written), arrowToJson(sample('cc_data_1k.arrow')));
});
