// Writes answer columns as Wallaroo does: pandas-records JSON (float32 outputs in their shortest form, as the
// engine prints 0.0014974177) or an Arrow IPC file with the version's exact field types.
import {
  type Data, DataType, type Float, type List, makeData, Precision, RecordBatch, Schema, Struct, Table, tableToIPC, Type,
  vectorFromArray,
} from 'apache-arrow';
import { formatFloat32 } from '../../convert/index.ts';
import type { Column } from './columns.ts';

function jsonValue(value: unknown, type: DataType): string {
  if (value === null || value === undefined) return 'null';
  switch (type.typeId) {
    case Type.Struct: {
      if (typeof value !== 'object') return JSON.stringify(value) ?? 'null';
      const record = value as Record<string, unknown>;
      return `{${(type as Struct).children.map((child) => `${JSON.stringify(child.name)}:${jsonValue(record[child.name], child.type)}`).join(',')}}`;
    }
    case Type.List:
    case Type.FixedSizeList: {
      const child = (type as List).children[0]!.type;
      // Nested lists of an Arrow input arrive as Arrow vectors (iterable, int64 items as BigInt).
      const items = Array.isArray(value) || ArrayBuffer.isView(value) ? (value as ArrayLike<unknown>) : typeof value === 'object' && Symbol.iterator in value ? Array.from(value as Iterable<unknown>) : null;
      if (items === null) return JSON.stringify(value) ?? 'null'; // an input echoed as it came
      return `[${Array.from(items, (item) => jsonValue(item, child)).join(',')}]`;
    }
    case Type.Float:
      if (typeof value !== 'number') return JSON.stringify(value) ?? 'null'; // an input echoed as it came
      if ((type as Float).precision === Precision.SINGLE) return formatFloat32(Number(value));
      return Number.isFinite(Number(value)) ? String(Number(value)) : 'null';
    default:
      if (typeof value === 'bigint') return value.toString();
      if (typeof value === 'number' && !Number.isFinite(value)) return 'null';
      return JSON.stringify(value) ?? 'null';
  }
}

export function answerJson(columns: Column[]): Buffer {
  const rows = columns[0]?.values.length ?? 0;
  const parts: string[] = [];
  for (let row = 0; row < rows; row++) {
    parts.push(`{${columns.map((column) => `${JSON.stringify(column.field.name)}:${jsonValue(column.values[row], column.field.type)}`).join(',')}}`);
  }
  return Buffer.from(`[${parts.join(',')}]`);
}

const isWideInteger = (type: DataType) => DataType.isInt(type) && type.bitWidth === 64;

/** apache-arrow's builders take bigints for 64-bit integers and plain arrays for lists. */
function arrowValue(value: unknown, type: DataType): unknown {
  if (value === null || value === undefined) return null;
  if (isWideInteger(type)) return typeof value === 'bigint' ? value : BigInt(Math.trunc(Number(value)));
  if (type.typeId === Type.List || type.typeId === Type.FixedSizeList) {
    const child = (type as List).children[0]!.type;
    return Array.from(value as ArrayLike<unknown>, (item) => arrowValue(item, child));
  }
  if (type.typeId === Type.Struct) {
    const record = value as Record<string, unknown>;
    return Object.fromEntries((type as Struct).children.map((child) => [child.name, arrowValue(record[child.name], child.type)]));
  }
  if (type.typeId === Type.Int && typeof value === 'bigint') return Number(value);
  return value;
}

/** Whether a type holds 64-bit integers, whose builders need bigints (plain values pass as they are). */
function holdsWideIntegers(type: DataType): boolean {
  return isWideInteger(type) || (type.children ?? []).some((child) => holdsWideIntegers(child.type));
}

const isNumberList = (value: unknown): value is ArrayLike<number> =>
  (Array.isArray(value) && value.every((item) => typeof item === 'number')) || (ArrayBuffer.isView(value) && !(value instanceof BigInt64Array) && !(value instanceof BigUint64Array));

/**
 * One column's Arrow data. Structs are assembled from their children and lists of floats written straight
 * into typed arrays (a 1,000-row answer's tensors are 29,000 floats; apache-arrow's row builders take ~10x
 * longer, blocking the event loop the gateway shares in tests); anything else goes through the builders.
 */
function columnData(type: DataType, values: unknown[]): Data {
  if (type.typeId === Type.Struct && values.every((value) => value !== null && typeof value === 'object')) {
    const children = (type as Struct).children.map((child) => columnData(child.type, values.map((value) => (value as Record<string, unknown>)[child.name] ?? null)));
    return makeData({ type: type as Struct, length: values.length, nullCount: 0, children });
  }
  const child = type.typeId === Type.List ? (type as List).children[0]!.type : null;
  if (child?.typeId === Type.Float && (child as Float).precision !== Precision.HALF && values.every(isNumberList)) {
    const offsets = new Int32Array(values.length + 1);
    values.forEach((value, i) => (offsets[i + 1] = offsets[i]! + value.length));
    const floats = (child as Float).precision === Precision.SINGLE ? new Float32Array(offsets[values.length]!) : new Float64Array(offsets[values.length]!);
    values.forEach((value, i) => floats.set(value, offsets[i]!));
    return makeData({ type: type as List, length: values.length, nullCount: 0, valueOffsets: offsets, child: makeData({ type: child as Float, length: floats.length, nullCount: 0, data: floats }) });
  }
  const plain = holdsWideIntegers(type) ? values.map((value) => arrowValue(value, type)) : values;
  const data = vectorFromArray(plain, type).data;
  if (data.length !== 1) throw new Error(`expected one chunk for ${String(type)}, got ${data.length}`);
  return data[0]!;
}

export function answerArrow(columns: Column[]): Buffer {
  const fields = columns.map((column) => column.field);
  const rowType = new Struct(fields);
  const length = columns[0]?.values.length ?? 0;
  const data = makeData({ type: rowType, length, nullCount: 0, children: columns.map((column) => columnData(column.field.type, column.values)) });
  return Buffer.from(tableToIPC(new Table([new RecordBatch(new Schema(fields), data)]), 'file'));
}
