import assert from 'node:assert/strict';
import { test } from 'node:test';
import { joinRecords, scanRecords, splitRecords } from '../../src/batching/json-records.ts';

const text = (value: string) => Buffer.from(value);

// Batched pandas-records bodies are joined and Wallaroo's answers split as text, never re-encoded: strings holding
// brackets, braces, commas and escaped quotes stay inside their row; only bodies with the same keys in the same
// order share a call; anything that is not an array of objects is left alone (sent by itself).
test('pandas-records rows are found, joined and split as text, byte for byte', () => {
  const a = text(' [ {"x":"a],}{\\"b","y":[1,{"z":2}]} ,{"x":"c","y":[]}]\n');
  const b = text('[{"x":"\\\\","y":1.50}]');
  const scannedA = scanRecords(a, true)!;
  const scannedB = scanRecords(b, true)!;
  assert.equal(scannedA.starts.length, 2);
  assert.equal(scannedA.columns, '"x","y",');
  assert.equal(scannedB.columns, scannedA.columns);
  const joined = joinRecords([a, b], [scannedA, scannedB]);
  assert.equal(joined.toString(), '[{"x":"a],}{\\"b","y":[1,{"z":2}]} ,{"x":"c","y":[]},{"x":"\\\\","y":1.50}]');
  assert.deepEqual(JSON.parse(joined.toString()), [...JSON.parse(a.toString()), ...JSON.parse(b.toString())]);

  const parts = splitRecords(joined, [2, 1])!;
  assert.deepEqual(parts.map(String), ['[{"x":"a],}{\\"b","y":[1,{"z":2}]} ,{"x":"c","y":[]}]', '[{"x":"\\\\","y":1.50}]']);
  assert.equal(splitRecords(joined, [1, 1]), null); // three rows answered for two sent: not split

  assert.equal(scanRecords(text('[{"y":1,"x":2}]'), true)!.columns === scannedA.columns, false); // other order
  assert.equal(scanRecords(text('[{"x":1},{"y":2}]'), true)!.columns, null); // rows differ
  for (const body of ['{"x":1}', '[1,2]', '[{"x":1}', '[{"x":1}]]', '[{"x":1},]', '[,{"x":1}]', '[{"x":"1}]', '[{"x":[1}]', '[{"x":1}] x', '']) {
    assert.equal(scanRecords(text(body), true), null, body);
  }
  assert.equal(scanRecords(text('[]'), true)!.starts.length, 0);
  assert.equal(scanRecords(text(`${'['.repeat(1)}{"x":${'['.repeat(100)}${']'.repeat(100)}}]`), true), null); // too deep for the scan
});
