import {
  Bool, type Data, type DataType, Field, Float64, Int64, List, makeData, Null, RecordBatch, Schema, Struct, Table,
  tableToIPC, Type, Utf8,
} from 'apache-arrow';
import { GatewayError } from '../errors.ts';

/**
 * pandas-records JSON (an array of row objects) -> Arrow. Pure. Columns named in `schema` get exactly that
 * Arrow type (Wallaroo checks input schemas, and JSON carries no float width); other columns are inferred the
 * way pyarrow would: int64 when every number is an integer, float64 otherwise, utf8, bool, struct for objects,
 * list for arrays. Values are written straight into typed arrays: no per-row builder objects.
 */
export interface JsonToArrowOptions {
  schema?: ReadonlyMap<string, DataType> | undefined;
  /** Deepest nesting of arrays/objects accepted inside a row (the row object itself is depth 1). */
  maxDepth?: number | undefined;
}

export type ArrowIpcFormat = 'file' | 'stream';
export type Row = Record<string, unknown>;

const DEFAULT_MAX_DEPTH = 32;
const decoder = new TextDecoder('utf-8', { fatal: false });

export function parseRecords(body: string | Uint8Array): Row[] {
  const text = typeof body === 'string' ? body : decoder.decode(body);
  if (text.trim() === '') throw new GatewayError('GW_EMPTY_BODY', 'the request body is empty');
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    const detail = error instanceof SyntaxError ? error.message : 'nesting too deep';
    throw new GatewayError('GW_INVALID_JSON', `the body is not valid JSON: ${detail}`);
  }
  if (!Array.isArray(parsed)) {
    throw new GatewayError('GW_INVALID_JSON', 'expected pandas-records JSON: an array of row objects, e.g. [{"tensor":[1,2]}]');
  }
  for (let i = 0; i < parsed.length; i++) {
    const row: unknown = parsed[i];
    if (row === null || typeof row !== 'object' || Array.isArray(row)) {
      throw new GatewayError('GW_INVALID_JSON', `row ${i} is not a JSON object (pandas-records rows are objects)`);
    }
  }
  return parsed as Row[];
}

// ---------------------------------------------------------------------------------------------------------------
// Type inference

type Inferred =
  | { kind: 'null' }
  | { kind: 'bool' }
  | { kind: 'int' }
  | { kind: 'float' }
  | { kind: 'string' }
  | { kind: 'list'; item: Inferred }
  | { kind: 'struct'; fields: Map<string, Inferred> };

const NULL: Inferred = { kind: 'null' };

function describe(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  if (Array.isArray(value)) return `an array of ${value.length}`;
  if (typeof value === 'object') return 'an object';
  const text = JSON.stringify(value) ?? String(value);
  return `${typeof value} ${text.length > 40 ? `${text.slice(0, 40)}...` : text}`;
}

function mismatch(row: number, column: string, message: string): GatewayError {
  return new GatewayError('GW_SCHEMA_MISMATCH', `row ${row}, column "${column}": ${message}`);
}

class Inference {
  constructor(private readonly maxDepth: number) {}

  infer(value: unknown, current: Inferred, row: number, column: string, depth: number): Inferred {
    if (value === null || value === undefined) return current;
    if (depth > this.maxDepth) {
      throw new GatewayError('GW_JSON_TOO_DEEP', `row ${row}, column "${column}": nested deeper than ${this.maxDepth} levels`);
    }
    switch (typeof value) {
      case 'number':
        if (current.kind === 'float') return current;
        if (current.kind === 'int' || current.kind === 'null') return Number.isInteger(value) ? (current.kind === 'null' ? { kind: 'int' } : current) : { kind: 'float' };
        break;
      case 'string':
        if (current.kind === 'string' || current.kind === 'null') return current.kind === 'null' ? { kind: 'string' } : current;
        break;
      case 'boolean':
        if (current.kind === 'bool' || current.kind === 'null') return current.kind === 'null' ? { kind: 'bool' } : current;
        break;
      case 'object':
        if (Array.isArray(value)) {
          if (current.kind !== 'list' && current.kind !== 'null') break;
          let item = current.kind === 'list' ? current.item : NULL;
          for (let i = 0; i < value.length; i++) {
            const element: unknown = value[i];
            // Tensors are long runs of numbers: keep that loop free of calls.
            if (typeof element === 'number' && (item.kind === 'float' || (item.kind === 'int' && Number.isInteger(element)))) continue;
            item = this.infer(element, item, row, column, depth + 1);
          }
          return current.kind === 'list' && current.item === item ? current : { kind: 'list', item };
        } else {
          if (current.kind !== 'struct' && current.kind !== 'null') break;
          const fields = current.kind === 'struct' ? current.fields : new Map<string, Inferred>();
          for (const [key, child] of Object.entries(value as Row)) {
            fields.set(key, this.infer(child, fields.get(key) ?? NULL, row, `${column}.${key}`, depth + 1));
          }
          return current.kind === 'struct' ? current : { kind: 'struct', fields };
        }
      default:
        break;
    }
    throw mismatch(row, column, `mixed types: ${current.kind} and ${describe(value)}`);
  }
}

function toArrowType(inferred: Inferred): DataType {
  switch (inferred.kind) {
    case 'null': return new Null();
    case 'bool': return new Bool();
    case 'int': return new Int64();
    case 'float': return new Float64();
    case 'string': return new Utf8();
    case 'list': return new List(new Field('item', toArrowType(inferred.item), true));
    case 'struct': return new Struct([...inferred.fields].map(([name, child]) => new Field(name, toArrowType(child), true)));
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Column building: values -> arrow Data, validating every value against the type.

/** Maps an element index of a (possibly nested) column back to its top-level row, for error messages. */
type RowOf = (index: number) => number;
const identity: RowOf = (index) => index;

class Validity {
  bitmap: Uint8Array | null = null;
  nullCount = 0;
  constructor(private readonly length: number) {}
  setNull(index: number): void {
    if (!this.bitmap) this.bitmap = new Uint8Array((this.length + 7) >> 3).fill(0xff);
    this.bitmap[index >> 3]! &= ~(1 << (index & 7));
    this.nullCount++;
  }
  get props(): { nullCount: number; nullBitmap?: Uint8Array } {
    return this.bitmap ? { nullCount: this.nullCount, nullBitmap: this.bitmap } : { nullCount: 0 };
  }
}

const encoder = new TextEncoder();
const TIMESTAMP_FROM_MS = [1 / 1000, 1, 1000, 1_000_000]; // TimeUnit SECOND, MILLISECOND, MICROSECOND, NANOSECOND

function buildNumeric(type: DataType, values: readonly unknown[], column: string, rowOf: RowOf): Data {
  const length = values.length;
  const validity = new Validity(length);
  const ArrayType = type.ArrayType as { new (length: number): ArrayLike<number | bigint> & { [i: number]: number | bigint } };
  const data = new ArrayType(length);
  const isInt = type.typeId === Type.Int;
  const bigint = data instanceof BigInt64Array || data instanceof BigUint64Array;
  const intType = type as unknown as { bitWidth: number; isSigned: boolean };
  const min = isInt && !bigint ? (intType.isSigned ? -(2 ** (intType.bitWidth - 1)) : 0) : -Infinity;
  const max = isInt && !bigint ? 2 ** (intType.bitWidth - (intType.isSigned ? 1 : 0)) - 1 : Infinity;
  const timestampScale = type.typeId === Type.Timestamp ? TIMESTAMP_FROM_MS[(type as unknown as { unit: number }).unit]! : 0;
  for (let i = 0; i < length; i++) {
    let value = values[i];
    if (value === null || value === undefined) {
      validity.setNull(i);
      continue;
    }
    if (timestampScale !== 0) {
      if (typeof value === 'string' && !Number.isNaN(Date.parse(value))) value = Date.parse(value);
      if (typeof value !== 'number' || !Number.isFinite(value)) throw mismatch(rowOf(i), column, `expected ${type} (epoch ms or ISO date), got ${describe(value)}`);
      data[i] = BigInt(Math.round(value * timestampScale));
      continue;
    }
    if (typeof value !== 'number' || (isInt && (!Number.isInteger(value) || value < min || value > max))) {
      throw mismatch(rowOf(i), column, `expected ${type}, got ${describe(value)}`);
    }
    if (bigint) {
      if (data instanceof BigUint64Array && value < 0) throw mismatch(rowOf(i), column, `expected ${type}, got ${describe(value)}`);
      data[i] = BigInt(value);
    } else {
      data[i] = value;
    }
  }
  return makeData({ type, length, data: data as never, ...validity.props } as never);
}

function buildFixedSizeList(type: DataType, values: readonly unknown[], column: string, rowOf: RowOf): Data {
  const length = values.length;
  const size = (type as unknown as { listSize: number }).listSize;
  const childType = type.children[0]!.type as DataType;
  const validity = new Validity(length);
  const fastFloat = childType.typeId === Type.Float;
  if (fastFloat) {
    // The hot path of every Wallaroo tensor: write numbers straight into one Float32Array/Float64Array.
    const ArrayType = childType.ArrayType as Float32ArrayConstructor | Float64ArrayConstructor;
    const flat = new ArrayType(length * size);
    for (let i = 0; i < length; i++) {
      const row = values[i];
      if (row === null || row === undefined) {
        validity.setNull(i);
        continue;
      }
      if (!Array.isArray(row) || row.length !== size) {
        throw mismatch(rowOf(i), column, `expected ${size} values (${type}), got ${describe(row)}`);
      }
      const base = i * size;
      for (let j = 0; j < size; j++) {
        const value: unknown = row[j];
        if (typeof value !== 'number') {
          if (value === null) {
            flat[base + j] = Number.NaN; // pandas writes NaN as null; Arrow float children carry it as NaN
            continue;
          }
          throw mismatch(rowOf(i), column, `element ${j}: expected a number, got ${describe(value)}`);
        }
        flat[base + j] = value;
      }
    }
    const child = makeData({ type: childType as never, length: length * size, nullCount: 0, data: flat as never });
    return makeData({ type: type as never, length, child, ...validity.props } as never);
  }
  const flat: unknown[] = new Array(length * size).fill(null);
  for (let i = 0; i < length; i++) {
    const row = values[i];
    if (row === null || row === undefined) {
      validity.setNull(i);
      continue;
    }
    if (!Array.isArray(row) || row.length !== size) {
      throw mismatch(rowOf(i), column, `expected ${size} values (${type}), got ${describe(row)}`);
    }
    for (let j = 0; j < size; j++) flat[i * size + j] = row[j];
  }
  const child = buildData(childType, flat, column, (index) => rowOf(Math.floor(index / size)));
  return makeData({ type: type as never, length, child, ...validity.props } as never);
}

function buildList(type: DataType, values: readonly unknown[], column: string, rowOf: RowOf): Data {
  const length = values.length;
  const validity = new Validity(length);
  const offsets = new Int32Array(length + 1);
  let total = 0;
  for (let i = 0; i < length; i++) {
    const row = values[i];
    if (row === null || row === undefined) validity.setNull(i);
    else if (!Array.isArray(row)) throw mismatch(rowOf(i), column, `expected a list (${type}), got ${describe(row)}`);
    else total += row.length;
    offsets[i + 1] = total;
  }
  const childType = type.children[0]!.type as DataType;
  if (childType.typeId === Type.Float) {
    // Inferred tensors (list<float64>): numbers straight into one typed array.
    const ArrayType = childType.ArrayType as Float32ArrayConstructor | Float64ArrayConstructor;
    const flatNumbers = new ArrayType(total);
    for (let i = 0, k = 0; i < length; i++) {
      const row = values[i];
      if (!Array.isArray(row)) continue;
      for (let j = 0; j < row.length; j++, k++) {
        const value: unknown = row[j];
        if (typeof value === 'number') flatNumbers[k] = value;
        else if (value === null) flatNumbers[k] = Number.NaN;
        else throw mismatch(rowOf(i), column, `element ${j}: expected a number, got ${describe(value)}`);
      }
    }
    const child = makeData({ type: childType as never, length: total, nullCount: 0, data: flatNumbers as never });
    return makeData({ type: type as never, length, valueOffsets: offsets, child, ...validity.props } as never);
  }
  const flat: unknown[] = new Array(total);
  const owners = new Int32Array(total);
  for (let i = 0, k = 0; i < length; i++) {
    const row = values[i];
    if (!Array.isArray(row)) continue;
    for (let j = 0; j < row.length; j++, k++) {
      flat[k] = row[j];
      owners[k] = i;
    }
  }
  const child = buildData(childType, flat, column, (index) => rowOf(owners[index]!));
  return makeData({ type: type as never, length, valueOffsets: offsets, child, ...validity.props } as never);
}

function buildStruct(type: DataType, values: readonly unknown[], column: string, rowOf: RowOf): Data {
  const length = values.length;
  const validity = new Validity(length);
  for (let i = 0; i < length; i++) {
    const value = values[i];
    if (value === null || value === undefined) validity.setNull(i);
    else if (typeof value !== 'object' || Array.isArray(value)) throw mismatch(rowOf(i), column, `expected an object (${type}), got ${describe(value)}`);
  }
  const children = (type.children as Field[]).map((field) =>
    buildData(
      field.type,
      values.map((value) => (value === null || value === undefined ? null : (value as Row)[field.name])),
      `${column}.${field.name}`,
      rowOf,
    ),
  );
  return makeData({ type: type as never, length, children, ...validity.props } as never);
}

function buildData(type: DataType, values: readonly unknown[], column: string, rowOf: RowOf = identity): Data {
  const length = values.length;
  switch (type.typeId) {
    case Type.Null:
      for (let i = 0; i < length; i++) {
        if (values[i] !== null && values[i] !== undefined) throw mismatch(rowOf(i), column, `expected null, got ${describe(values[i])}`);
      }
      return makeData({ type: type as Null, length, nullCount: length });
    case Type.Int:
    case Type.Float:
    case Type.Timestamp:
      return buildNumeric(type, values, column, rowOf);
    case Type.Bool: {
      const validity = new Validity(length);
      const bits = new Uint8Array((length + 7) >> 3);
      for (let i = 0; i < length; i++) {
        const value = values[i];
        if (value === null || value === undefined) validity.setNull(i);
        else if (typeof value !== 'boolean') throw mismatch(rowOf(i), column, `expected bool, got ${describe(value)}`);
        else if (value) bits[i >> 3]! |= 1 << (i & 7);
      }
      return makeData({ type: type as Bool, length, data: bits, ...validity.props });
    }
    case Type.Utf8: {
      const validity = new Validity(length);
      const parts: Uint8Array[] = [];
      const offsets = new Int32Array(length + 1);
      let total = 0;
      for (let i = 0; i < length; i++) {
        const value = values[i];
        if (value === null || value === undefined) validity.setNull(i);
        else if (typeof value !== 'string') throw mismatch(rowOf(i), column, `expected string, got ${describe(value)}`);
        else {
          const bytes = encoder.encode(value);
          parts.push(bytes);
          total += bytes.length;
        }
        offsets[i + 1] = total;
      }
      const data = new Uint8Array(total);
      let at = 0;
      for (const part of parts) {
        data.set(part, at);
        at += part.length;
      }
      return makeData({ type: type as Utf8, length, valueOffsets: offsets, data, ...validity.props });
    }
    case Type.FixedSizeList:
      return buildFixedSizeList(type, values, column, rowOf);
    case Type.List:
      return buildList(type, values, column, rowOf);
    case Type.Struct:
      return buildStruct(type, values, column, rowOf);
    default:
      throw new GatewayError('GW_SCHEMA_MISMATCH', `column "${column}": Arrow type ${type} is not supported for JSON input`);
  }
}

/** Builds a Table from parsed rows. Column order is the order of first appearance, as pandas does. */
export function recordsToTable(rows: readonly Row[], options: JsonToArrowOptions = {}): Table {
  const maxDepth = options.maxDepth ?? DEFAULT_MAX_DEPTH;
  const columns: string[] = [];
  const seen = new Set<string>();
  for (const row of rows) {
    for (const key in row) {
      if (!seen.has(key)) {
        seen.add(key);
        columns.push(key);
      }
    }
  }
  const inference = new Inference(maxDepth);
  const fields: Field[] = [];
  const children: Data[] = [];
  for (const column of columns) {
    const values = new Array<unknown>(rows.length);
    for (let i = 0; i < rows.length; i++) values[i] = Object.hasOwn(rows[i]!, column) ? rows[i]![column] : null;
    let type = options.schema?.get(column);
    if (!type) {
      let inferred: Inferred = NULL;
      for (let i = 0; i < values.length; i++) inferred = inference.infer(values[i], inferred, i, column, 2);
      type = toArrowType(inferred);
    }
    fields.push(new Field(column, type, true));
    children.push(buildData(type, values, column));
  }
  const schema = new Schema(fields);
  const batch = new RecordBatch(schema, makeData({ type: new Struct(fields), length: rows.length, nullCount: 0, children }));
  return new Table([batch]);
}

export function jsonToArrow(body: string | Uint8Array, format: ArrowIpcFormat = 'file', options: JsonToArrowOptions = {}): Uint8Array {
  return tableToIPC(recordsToTable(parseRecords(body), options), format);
}
