import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Dictionary, Float32, Int32, Table, tableFromIPC, tableToIPC, Utf8, vectorFromArray } from 'apache-arrow';
import { splitTable } from '../../src/batching/arrow-records.ts';
import { DEFAULT_CONVERSION_LIMITS } from '../../src/config/types.ts';

// Hostile review: apache-arrow writes a dictionary column's whole dictionary into every slice of a table, so a
// 16 MiB Arrow answer to a batch of 64 one-row requests was cut into 64 answers of 16 MiB each (1 GiB written,
// most members then refused 503 though Wallaroo had answered them). Slices that outgrow the answer are not made:
// the members are sent alone, each getting its own answer.

const MEMBERS = 64;

test('an Arrow batch answer whose dictionary every slice would repeat is not split; a plain one is', () => {
  const big = 'x'.repeat(256 * 1024);
  const dictionary = vectorFromArray(Array.from({ length: MEMBERS }, (_, i) => `${big}${i}`), new Dictionary(new Utf8(), new Int32()));
  const answer = Buffer.from(tableToIPC(new Table({ out: dictionary }), 'file'));
  assert.ok(answer.byteLength > 16 * 1024 * 1024);
  assert.equal(splitTable(answer, Array(MEMBERS).fill(1), DEFAULT_CONVERSION_LIMITS), null);

  // The same rows without a dictionary split exactly, each slice its member's row.
  const plain = Buffer.from(tableToIPC(new Table({ out: vectorFromArray(Array.from({ length: MEMBERS }, (_, i) => `${big}${i}`), new Utf8()), score: vectorFromArray(Array.from({ length: MEMBERS }, (_, i) => i / 2), new Float32()) }), 'file'));
  const slices = splitTable(plain, Array(MEMBERS).fill(1), DEFAULT_CONVERSION_LIMITS);
  assert.ok(slices);
  assert.equal(slices.length, MEMBERS);
  assert.ok(slices.reduce((sum, slice) => sum + slice.byteLength, 0) < 2 * plain.byteLength);
  const last = tableFromIPC(slices[MEMBERS - 1]!);
  assert.equal(last.numRows, 1);
  assert.equal(last.get(0)?.out, `${big}${MEMBERS - 1}`);
  assert.equal(last.get(0)?.score, (MEMBERS - 1) / 2);

  // A small dictionary (a category column, the usual kind) still splits: the bound is on growth, not on the type.
  const categories = vectorFromArray(Array.from({ length: MEMBERS }, (_, i) => ['fraud', 'ok'][i % 2]!), new Dictionary(new Utf8(), new Int32()));
  const small = splitTable(Buffer.from(tableToIPC(new Table({ label: categories }), 'file')), Array(MEMBERS).fill(1), DEFAULT_CONVERSION_LIMITS);
  assert.equal(small?.length, MEMBERS);
  assert.equal(tableFromIPC(small![1]!).get(0)?.label, 'ok');
});
