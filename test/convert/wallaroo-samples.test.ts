import assert from 'node:assert/strict';
import { test } from 'node:test';
import { arrowToJson, jsonToArrow, parseInputSchema, readArrow } from '../../src/convert/index.ts';
import { sample } from '../helpers/data.ts';

const ccfraudSchema = parseInputSchema({ tensor: 'fixed_size_list<float32>[29]' });

/** A fixed-size-list column's float32 values (IPC buffers are padded to 8 bytes, so cut to the logical length). */
function floats(table: ReturnType<typeof readArrow>, column: string, size: number): Float32Array {
  const values = table.getChild(column)!.data[0]!.children[0]!.values as Float32Array;
  return values.subarray(0, table.numRows * size);
}

test('pyarrow-written Arrow IPC files from the Wallaroo tutorials are read with their real schema', () => {
  const cc = readArrow(sample('cc_data_1k.arrow'));
  assert.equal(cc.numRows, 1001);
  assert.deepEqual(cc.schema.fields.map((f) => `${f.name}:${f.type}`), ['tensor:FixedSizeList[29]<Float32>']);
  const text = readArrow(sample('data_1k.arrow'));
  assert.equal(text.numRows, 1000);
  assert.deepEqual(text.schema.fields.map((f) => `${f.name}:${f.type}`), ['text_input:FixedSizeList[50]<Float32>']);
});

test('cc_data_1k.arrow -> JSON equals cc_data_1k.df.json up to float32 precision, and back to the same float32 bytes', () => {
  const fromArrow = JSON.parse(arrowToJson(sample('cc_data_1k.arrow')).toString()) as Array<{ tensor: number[] }>;
  const fromPandas = JSON.parse(sample('cc_data_1k.df.json').toString()) as Array<{ tensor: number[] }>;
  assert.equal(fromArrow.length, fromPandas.length);
  for (let row = 0; row < fromArrow.length; row++) {
    assert.equal(fromArrow[row]!.tensor.length, 29);
    for (let i = 0; i < 29; i++) assert.equal(Math.fround(fromArrow[row]!.tensor[i]!), Math.fround(fromPandas[row]!.tensor[i]!), `row ${row} [${i}]`);
  }
  const rebuilt = readArrow(jsonToArrow(sample('cc_data_1k.df.json'), 'file', { schema: ccfraudSchema }));
  const original = readArrow(sample('cc_data_1k.arrow'));
  assert.deepEqual(floats(rebuilt, 'tensor', 29), floats(original, 'tensor', 29));
});

test('every JSON sample round-trips JSON -> Arrow -> JSON to the same values', () => {
  for (const [file, schema] of [
    ['cc_data_1k.df.json', undefined],
    ['cc_data_high_confidence.df.json', undefined],
    ['data_1.df.json', undefined],
    ['cc_data_high_confidence.df.json', ccfraudSchema],
  ] as const) {
    const original = JSON.parse(sample(file).toString()) as Array<Record<string, number[]>>;
    const back = JSON.parse(arrowToJson(jsonToArrow(sample(file), 'file', { schema })).toString()) as typeof original;
    if (schema) {
      // float32 columns: equal after rounding both sides to float32
      assert.deepEqual(back.map((r) => r.tensor!.map(Math.fround)), original.map((r) => r.tensor!.map(Math.fround)), file);
    } else {
      assert.deepEqual(back, original, file);
    }
  }
  // and every Arrow sample round-trips Arrow -> JSON -> Arrow (with the float32 schema) to the same bytes of data
  for (const [file, column, size] of [['cc_data_1k.arrow', 'tensor', 29], ['data_1k.arrow', 'text_input', 50]] as const) {
    const original = readArrow(sample(file));
    const schema = parseInputSchema({ [column]: `fixed_size_list<float32>[${size}]` });
    const again = readArrow(jsonToArrow(arrowToJson(sample(file)), 'file', { schema }));
    assert.deepEqual(floats(again, column, size), floats(original, column, size), file);
  }
});
