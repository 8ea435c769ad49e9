import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Bool, Field, Float32, Float64, Int64, List, makeData, makeVector, Struct, Table, TimestampNanosecond, tableToIPC, Utf8, vectorFromArray } from 'apache-arrow';
import { arrowToJson, formatFloat32, tableToJson } from '../../src/convert/index.ts';

test('float32 prints as the shortest decimal that reads back as the same float32 (numpy repr)', () => {
  const cases: Array<[number, string]> = [
    [0.1, '0.1'], [-1.0603297501, '-1.0603298'], [5.1387348926, '5.138735'], [1e-40, '1e-40'], [3.4e38, '3.4e+38'],
    [123456789, '123456790'], [16777216, '16777216'], [0.000001, '0.000001'], [1.5e-7, '1.5e-7'], [1e21, '1e+21'], [0, '0'],
  ];
  for (const [input, expected] of cases) assert.equal(formatFloat32(Math.fround(input)), expected, String(input));
  assert.equal(formatFloat32(Number.NaN), 'null');
  assert.equal(formatFloat32(Number.POSITIVE_INFINITY), 'null');
});

test('float32 formatting agrees with the exact slow method on random bit patterns', () => {
  const bits = new Uint32Array(1);
  const float = new Float32Array(bits.buffer);
  const exact = (v: number) => {
    for (let d = 1; d <= 9; d++) {
      const c = Number(Math.abs(v).toPrecision(d));
      if (Math.fround(c) === Math.abs(v)) return String(v < 0 ? -c : c);
    }
    return String(v);
  };
  let checked = 0;
  for (let i = 0; i < 200_000; i++) {
    bits[0] = (Math.random() * 2 ** 32) >>> 0;
    const value = float[0]!;
    if (!Number.isFinite(value) || value === 0) continue;
    assert.equal(formatFloat32(value), exact(value), `bits 0x${bits[0].toString(16)}`);
    checked++;
  }
  assert.ok(checked > 190_000);
});

test("Wallaroo's answer shape: structs as objects, lists as arrays, timestamps as epoch ms, NaN/null as null, int64 in full", () => {
  const rows = [
    { id: 2n ** 60n + 1n, score: Number.NaN, name: 'é"\n', ok: true, tags: ['a', null] },
  ];
  const t = new Table({
    id: vectorFromArray(rows.map((r) => r.id), new Int64()),
    score: vectorFromArray(rows.map((r) => r.score), new Float64()),
    name: vectorFromArray(rows.map((r) => r.name), new Utf8()),
    ok: vectorFromArray(rows.map((r) => r.ok), new Bool()),
    tags: vectorFromArray(rows.map((r) => r.tags), new List(new Field('item', new Utf8(), true))),
    out: vectorFromArray([{ dense_1: [0.25] }], new Struct([new Field('dense_1', new List(new Field('item', new Float32(), true)), true)])),
    time: makeVector(makeData({ type: new TimestampNanosecond(), length: 1, nullCount: 0, data: new BigInt64Array([1688750664105123456n]) })),
    missing: vectorFromArray([null], new Float64()),
  });
  const text = tableToJson(t);
  assert.equal(text, '[{"id":1152921504606846977,"score":null,"name":"é\\"\\n","ok":true,"tags":["a",null],"out":{"dense_1":[0.25]},"time":1688750664105,"missing":null}]');
  assert.deepEqual(JSON.parse(arrowToJson(tableToIPC(t, 'stream')).toString()), JSON.parse(text));
});
