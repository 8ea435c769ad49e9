import {
  Dictionary, Field, Int8, List, makeData, makeVector, Null, RecordBatch, Schema, Struct, Table, tableToIPC, Utf8,
} from 'apache-arrow';
import { Field as FieldMessage } from 'apache-arrow/fb/field';
import { Message } from 'apache-arrow/fb/message';
import { MessageHeader } from 'apache-arrow/fb/message-header';
import { MetadataVersion } from 'apache-arrow/fb/metadata-version';
import { Null as NullMessage } from 'apache-arrow/fb/null';
import { RecordBatch as RecordBatchMessage } from 'apache-arrow/fb/record-batch';
import { FieldNode } from 'apache-arrow/fb/field-node';
import { Schema as SchemaMessage } from 'apache-arrow/fb/schema';
import { Type as TypeMessage } from 'apache-arrow/fb/type';
import { Builder } from 'flatbuffers';

/**
 * The hostile bodies of issue 15, built the way its probes built them, for the regression tests.
 */

function oneColumnFile(name: string, data: ReturnType<typeof makeData>): Uint8Array {
  const fields = [new Field(name, data.type, true)];
  const batch = new RecordBatch(new Schema(fields), makeData({ type: new Struct(fields), length: data.length, nullCount: 0, children: [data] }));
  return tableToIPC(new Table([batch]), 'file');
}

/** F1: one row holding a `List<Null>` of 2^31-1 nulls, built with apache-arrow's makeData: 402 bytes of Arrow file. */
export function nullListArrow(): Uint8Array {
  const length = 2 ** 31 - 1;
  const child = makeData({ type: new Null(), length, nullCount: length });
  const type = new List(new Field('item', new Null(), true));
  return oneColumnFile('tensor', makeData({ type, length: 1, nullCount: 0, valueOffsets: new Int32Array([0, length]), child }));
}

/** A dictionary column: one long entry, `rows` one-byte indices all pointing at it. */
export function dictionaryExpansionArrow(entryBytes: number, rows: number): Uint8Array {
  const entry = Buffer.alloc(entryBytes, 'x');
  const dictionary = makeVector(makeData({ type: new Utf8(), length: 1, nullCount: 0, valueOffsets: new Int32Array([0, entryBytes]), data: entry }));
  const type = new Dictionary(new Utf8(), new Int8());
  return oneColumnFile('label', makeData({ type, length: rows, nullCount: 0, data: new Int8Array(rows), dictionary }));
}

function framed(builder: Builder, message: number): Buffer {
  builder.finish(message);
  const metadata = builder.asUint8Array();
  const padded = (metadata.length + 7) & ~7;
  const out = Buffer.alloc(8 + padded);
  out.writeInt32LE(-1, 0); // continuation marker
  out.writeInt32LE(padded, 4);
  out.set(metadata, 8);
  return out;
}

/**
 * F4: an Arrow IPC stream of `columns` Null columns and one record batch of one row: about 67 bytes a column, so
 * 4.5 MB for 67,000. Written with the flatbuffer builders directly, since building it through apache-arrow takes
 * seconds (test/convert/read-arrow.test.ts shows apache-arrow reads the small version as what it claims to be).
 */
export function manyColumnsArrowStream(columns: number): Buffer {
  const schema = new Builder(columns * 64);
  const fields: number[] = [];
  for (let i = 0; i < columns; i++) {
    const name = schema.createString(`column_${i}`);
    const type = NullMessage.createNull(schema);
    const children = FieldMessage.createChildrenVector(schema, []);
    FieldMessage.startField(schema);
    FieldMessage.addName(schema, name);
    FieldMessage.addNullable(schema, true);
    FieldMessage.addTypeType(schema, TypeMessage.Null);
    FieldMessage.addType(schema, type);
    FieldMessage.addChildren(schema, children);
    fields.push(FieldMessage.endField(schema));
  }
  const fieldVector = SchemaMessage.createFieldsVector(schema, fields);
  SchemaMessage.startSchema(schema);
  SchemaMessage.addFields(schema, fieldVector);
  const schemaHeader = SchemaMessage.endSchema(schema);
  const schemaMessage = Message.createMessage(schema, MetadataVersion.V5, MessageHeader.Schema, schemaHeader, 0n, 0);

  const batch = new Builder(columns * 16 + 256);
  RecordBatchMessage.startNodesVector(batch, columns);
  for (let i = 0; i < columns; i++) FieldNode.createFieldNode(batch, 1n, 1n);
  const nodes = batch.endVector();
  RecordBatchMessage.startBuffersVector(batch, 0);
  const buffers = batch.endVector();
  RecordBatchMessage.startRecordBatch(batch);
  RecordBatchMessage.addLength(batch, 1n);
  RecordBatchMessage.addNodes(batch, nodes);
  RecordBatchMessage.addBuffers(batch, buffers);
  const batchHeader = RecordBatchMessage.endRecordBatch(batch);
  const batchMessage = Message.createMessage(batch, MetadataVersion.V5, MessageHeader.RecordBatch, batchHeader, 0n, 0);

  const endOfStream = Buffer.from([0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0]);
  return Buffer.concat([framed(schema, schemaMessage), framed(batch, batchMessage), endOfStream]);
}

/** F4: one pandas-records row with `keys` keys (200,000 make 2.3 MB). */
export function manyKeysJson(keys: number): string {
  const parts: string[] = [];
  for (let i = 0; i < keys; i++) parts.push(`"k${i}":${i % 10}`);
  return `[{${parts.join(',')}}]`;
}
