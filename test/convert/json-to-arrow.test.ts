import assert from 'node:assert/strict';
import { test } from 'node:test';
import { readArrow, recordsToTable, jsonToArrow, parseInputSchema } from '../../src/convert/index.ts';

const typesOf = (json: string, schema?: Record<string, string>) =>
  Object.fromEntries(readArrow(jsonToArrow(json, 'file', { schema: parseInputSchema(schema) })).schema.fields.map((f) => [f.name, String(f.type)]));

test('types are inferred as pyarrow would: int64, float64, utf8, bool, struct, list, nested lists, null', () => {
  const json = JSON.stringify([
    { i: 1, f: 1, s: 'a', b: true, o: { x: 1, y: 'z' }, l: [1, 2], t: [[1.5, 2], [3, 4]], n: null },
    { i: 2, f: 2.5, s: null, b: false, o: { x: 2 }, l: [], t: [[5, 6]], n: null },
  ]);
  assert.deepEqual(typesOf(json), {
    i: 'Int64', f: 'Float64', s: 'Utf8', b: 'Bool', o: 'Struct<{x:Int64, y:Utf8}>', l: 'List<Int64>', t: 'List<List<Float64>>', n: 'Null',
  });
});

test('with an inputSchema the exact Arrow types are built (float32 fixed-size tensors for Wallaroo)', () => {
  const json = JSON.stringify([{ tensor: [1, 2.5, -3], id: 7, when: 1688750664105 }]);
  assert.deepEqual(typesOf(json, { tensor: 'fixed_size_list<float32>[3]', id: 'int32', when: 'timestamp[ms]' }), {
    tensor: 'FixedSizeList[3]<Float32>', id: 'Int32', when: 'Timestamp<MILLISECOND>',
  });
  const table = readArrow(jsonToArrow(json, 'stream', { schema: parseInputSchema({ tensor: 'fixed_size_list<float32>[3]' }) }));
  assert.deepEqual(Array.from(table.getChild('tensor')!.get(0)!.toArray() as Float32Array), [1, 2.5, -3]);
});

test('a value that does not fit its column is GW_SCHEMA_MISMATCH naming row and column', () => {
  const schema = parseInputSchema({ tensor: 'fixed_size_list<float32>[3]', id: 'int32' });
  const cases: Array<[unknown[], RegExp]> = [
    [[{ tensor: [1, 2, 3] }, { tensor: [1, 2] }], /^row 1, column "tensor": expected 3 values \(FixedSizeList\[3\]<Float32>\), got an array of 2$/],
    [[{ tensor: [1, 'x', 3] }], /^row 0, column "tensor": element 1: expected a number, got string "x"$/],
    [[{ tensor: [1, 2, 3], id: 1.5 }], /^row 0, column "id": expected Int32, got number 1\.5$/],
    [[{ tensor: [1, 2, 3], id: 2 ** 31 }], /^row 0, column "id": expected Int32/],
    [[{ a: 1 }, { a: 'b' }], /^row 1, column "a": mixed types: int and string "b"$/],
    [[{ a: { b: [1] } }, { a: { b: ['x'] } }], /^row 1, column "a\.b": mixed types: int and string "x"$/],
  ];
  for (const [rows, message] of cases) {
    assert.throws(() => recordsToTable(rows as never, { schema }), (error: { code?: string; message?: string; statusCode?: number }) => {
      assert.equal(error.code, 'GW_SCHEMA_MISMATCH');
      assert.equal(error.statusCode, 400);
      assert.match(error.message!, message);
      return true;
    });
  }
});

test('not pandas-records, empty, malformed or too deep JSON are coded 400s', () => {
  assert.throws(() => jsonToArrow(''), { code: 'GW_EMPTY_BODY' });
  assert.throws(() => jsonToArrow('[{"a":1'), { code: 'GW_INVALID_JSON' });
  assert.throws(() => jsonToArrow('{"text_input":[[1,2]]}'), { code: 'GW_INVALID_JSON', message: /an array of row objects/ });
  assert.throws(() => jsonToArrow('[1,2]'), { code: 'GW_INVALID_JSON', message: 'row 0 is not a JSON object (pandas-records rows are objects)' });
  const deep = `[{"a":${'['.repeat(40)}1${']'.repeat(40)}}]`;
  assert.throws(() => jsonToArrow(deep), { code: 'GW_JSON_TOO_DEEP' });
  const deeper = `[{"a":${'['.repeat(200_000)}${']'.repeat(200_000)}}]`;
  assert.throws(() => jsonToArrow(deeper), (error: { code?: string }) => ['GW_JSON_TOO_DEEP', 'GW_INVALID_JSON'].includes(error.code!));
});

test('rows with different keys: columns in order of first appearance, missing values null', () => {
  const table = readArrow(jsonToArrow('[{"b":1},{"a":"x","b":2},{"c":true}]'));
  assert.deepEqual(table.schema.fields.map((f) => f.name), ['b', 'a', 'c']);
  assert.deepEqual(table.toArray().map((r) => r.toJSON()), [{ b: 1n, a: null, c: null }, { b: 2n, a: 'x', c: null }, { b: null, a: null, c: true }]);
});
