// Writes answer columns as Wallaroo does: pandas-records JSON (float32 outputs in their shortest form, as the
// engine prints 0.0014974177) or an Arrow IPC file with the version's exact field types.
import {
  DataType, type Float, type List, makeData, Precision, RecordBatch, Schema, Struct, Table, tableToIPC, Type,
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
      if (!Array.isArray(value) && !ArrayBuffer.isView(value)) return JSON.stringify(value) ?? 'null'; // an input echoed as it came
      const child = (type as List).children[0]!.type;
      return `[${Array.from(value as ArrayLike<unknown>, (item) => jsonValue(item, child)).join(',')}]`;
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

export function answerArrow(columns: Column[]): Buffer {
  const fields = columns.map((column) => column.field);
  const rowType = new Struct(fields);
  const rows = (columns[0]?.values ?? []).map((_, row) => Object.fromEntries(columns.map((column) => [column.field.name, column.values[row]])));
  const vector = vectorFromArray(rows.map((row) => arrowValue(row, rowType)), rowType);
  const schema = new Schema(fields);
  const batches = vector.data.length > 0
    ? vector.data.map((data) => new RecordBatch(schema, data))
    : [new RecordBatch(schema, makeData({ type: rowType, length: 0, nullCount: 0, children: fields.map((f) => makeData({ type: f.type, length: 0 })) }))];
  return Buffer.from(tableToIPC(new Table(batches), 'file'));
}
