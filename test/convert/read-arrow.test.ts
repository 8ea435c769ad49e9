import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  Dictionary, Field, Float32, Int8, List, makeData, makeVector, Null, RecordBatch, Schema, Struct, Table, tableFromIPC, tableToIPC, Utf8,
} from 'apache-arrow';
import { budgetFor, DEFAULT_CONVERSION_LIMITS } from '../../src/convert/budget.ts';
import { readArrow } from '../../src/convert/read-arrow.ts';
import { sample } from '../helpers/data.ts';
import { manyColumnsArrowStream } from '../helpers/hostile-bodies.ts';

// read-arrow.ts is the boundary every Arrow body crosses, from callers and from Wallaroo: whatever the bytes,
// a table within the budget or a coded error, never an internal error's text.

function tableOf(columns: Record<string, ReturnType<typeof makeData>>, length: number): Table {
  const fields = Object.entries(columns).map(([name, data]) => new Field(name, data.type, true));
  return new Table([new RecordBatch(new Schema(fields), makeData({ type: new Struct(fields), length, nullCount: 0, children: Object.values(columns) }))]);
}

function nullList(items: number): ReturnType<typeof makeData> {
  const child = makeData({ type: new Null(), length: items, nullCount: items });
  return makeData({ type: new List(new Field('item', new Null(), true)), length: 1, nullCount: 0, valueOffsets: new Int32Array([0, items]), child });
}

function refusal(bytes: Uint8Array, limits = DEFAULT_CONVERSION_LIMITS): { code: string; message: string } {
  try {
    readArrow(bytes, budgetFor(bytes.byteLength, limits));
  } catch (error) {
    return error as { code: string; message: string };
  }
  assert.fail('read without a refusal');
}

test('readArrow reads honest Arrow: a real tutorial file, and a many-column stream up to the cap', () => {
  assert.equal(readArrow(sample('cc_data_1k.arrow')).numRows, 1001);
  const stream = manyColumnsArrowStream(1_000);
  const table = readArrow(stream);
  assert.equal(table.numCols, 1_000);
  assert.deepEqual(table.schema.fields.slice(0, 2).map((f) => `${f.name}:${f.type}`), ['column_0:Null', 'column_1:Null']);
  assert.deepEqual(tableFromIPC(stream).schema.fields.length, 1_000, 'apache-arrow reads the helper\'s stream the same way');
});

test('readArrow refuses what it cannot read safely, each with a coded error naming the cause', () => {
  const file = tableToIPC(tableOf({ x: makeData({ type: new Float32(), length: 2, nullCount: 0, data: new Float32Array([1, 2]) }) }, 2), 'file');
  const stream = tableToIPC(tableOf({ x: makeData({ type: new Float32(), length: 2, nullCount: 0, data: new Float32Array([1, 2]) }) }, 2), 'stream');
  const corruptFooter = Buffer.from(file);
  corruptFooter.writeInt32LE(0x7fffffff, corruptFooter.length - 10);
  const schemaLength = 8 + Buffer.from(stream).readInt32LE(4);
  const headless = Buffer.concat([Buffer.from(stream).subarray(schemaLength)]);
  const badIndex = tableToIPC(tableOf({
    label: makeData({
      type: new Dictionary(new Utf8(), new Int8()), length: 1, nullCount: 0, data: new Int8Array([5]),
      dictionary: makeVector(makeData({ type: new Utf8(), length: 1, nullCount: 0, valueOffsets: new Int32Array([0, 1]), data: Buffer.from('a') })),
    }),
  }, 1), 'file');
  const nested = tableToIPC(tableOf({ s: makeData({ type: new Struct([new Field('a', new Null()), new Field('b', new Null())]), length: 1, nullCount: 0, children: [makeData({ type: new Null(), length: 1 }), makeData({ type: new Null(), length: 1 })] }) }, 1), 'stream');
  const cases: Array<[string, Uint8Array, string, RegExp, typeof DEFAULT_CONVERSION_LIMITS?]> = [
    ['empty', new Uint8Array(0), 'GW_EMPTY_BODY', /empty/],
    ['not Arrow', Buffer.from('{"tensor":[1,2,3]} and more'), 'GW_INVALID_ARROW', /not Arrow IPC/],
    ['file without its closing magic', file.subarray(0, file.length - 3), 'GW_INVALID_ARROW', /truncated/],
    ['file with a corrupt footer length', corruptFooter, 'GW_INVALID_ARROW', /corrupt footer length/],
    ['stream without its schema message', headless, 'GW_INVALID_ARROW', /does not start with a schema/],
    ['stream that ends at once', Buffer.from([0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0]), 'GW_INVALID_ARROW', /no schema message/],
    ['stream truncated in its schema', stream.subarray(0, 20), 'GW_INVALID_ARROW', /truncated in its first message/],
    ['dictionary index past the dictionary', badIndex, 'GW_INVALID_ARROW', /column "label" has index 5 past its 1-entry dictionary/],
    ['more columns than maxColumns', manyColumnsArrowStream(3), 'GW_BODY_TOO_COMPLEX', /more than 2 columns/, { ...DEFAULT_CONVERSION_LIMITS, maxColumns: 2 }],
    ['nested fields count as columns', nested, 'GW_BODY_TOO_COMPLEX', /more than 2 columns/, { ...DEFAULT_CONVERSION_LIMITS, maxColumns: 2 }],
    ['a list of nulls past the values a small body may hold', tableToIPC(tableOf({ t: nullList(100_000) }, 1), 'file'), 'GW_BODY_TOO_COMPLEX', /column "t.item" would take the body past/],
    ['values past conversion.maxElements', tableToIPC(tableOf({ t: nullList(1_000) }, 1), 'file'), 'GW_BODY_TOO_COMPLEX', /at most conversion.maxElements = 500\)/, { ...DEFAULT_CONVERSION_LIMITS, maxElements: 500 }],
  ];
  for (const [name, bytes, code, message, limits] of cases) {
    const error = refusal(bytes, limits);
    assert.equal(error.code, code, `${name}: ${error.message}`);
    assert.match(error.message, message, name);
  }
  assert.equal(readArrow(tableToIPC(tableOf({ t: nullList(60_000) }, 1), 'file')).numRows, 1, 'a short list of nulls is honest data');
});

test('no byte of a valid file, however corrupted, gets anything but a coded error without internal error text', () => {
  const file = Buffer.from(tableToIPC(tableOf({
    x: makeData({ type: new Float32(), length: 3, nullCount: 0, data: new Float32Array([1, 2, 3]) }),
    l: nullList(3),
  }, 1), 'file'));
  for (let at = 0; at < file.length; at++) {
    for (const value of [0x00, 0x7f, 0xff]) {
      const corrupt = Buffer.from(file);
      corrupt[at] = value;
      try {
        readArrow(corrupt);
      } catch (error) {
        const { code, message } = error as { code?: string; message: string };
        assert.ok(code === 'GW_INVALID_ARROW' || code === 'GW_BODY_TOO_COMPLEX' || code === 'GW_EMPTY_BODY', `byte ${at} = ${value}: ${code} ${message}`);
        assert.doesNotMatch(message, /TypeError|RangeError|undefined|Cannot read|is not a function|Invalid typed array/, `byte ${at} = ${value}`);
      }
    }
  }
});
