// JSON values -> Arrow Data, column by column, validating every value against its type. Values are written
// straight into typed arrays: no per-row builder objects. Every array about to be allocated is first charged to
// the conversion budget at its full length (a null row of a fixed-size list stands for all its values), so a
// small body cannot allocate a large table (issue 15, F3).
import { type Bool, type Data, type DataType, type Field, makeData, type Null, Type, type Utf8 } from 'apache-arrow';
import { GatewayError } from '../errors.ts';
import type { ConversionBudget } from './budget.ts';
import { describe, mismatch } from './infer-types.ts';

type Row = Record<string, unknown>;

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

const TIMESTAMP_FROM_MS = [1 / 1000, 1, 1000, 1_000_000]; // TimeUnit SECOND, MILLISECOND, MICROSECOND, NANOSECOND

function buildNumeric(type: DataType, values: readonly unknown[], column: string, rowOf: RowOf): Data {
  const length = values.length;
  const validity = new Validity(length);
  const ArrayType = type.ArrayType as { new (length: number): ArrayLike<number | bigint> & { [i: number]: number | bigint } };
  const data = new ArrayType(length);
  const isInt = type.typeId === Type.Int;
  const bigint = data instanceof BigInt64Array || data instanceof BigUint64Array;
  const intType = type as unknown as { bitWidth: number; isSigned: boolean };
  // 64-bit columns too: a BigInt64Array silently wraps 1e19 around to a negative number. The upper bound is
  // exclusive (2^63 - 1 is not a double: it rounds up to 2^63, which would wrap).
  const min = isInt ? (intType.isSigned ? -(2 ** (intType.bitWidth - 1)) : 0) : -Infinity;
  const beyond = isInt ? 2 ** (intType.bitWidth - (intType.isSigned ? 1 : 0)) : Infinity;
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
    if (typeof value !== 'number' || (isInt && (!Number.isInteger(value) || value < min || value >= beyond))) {
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

function buildFixedSizeList(type: DataType, values: readonly unknown[], column: string, rowOf: RowOf, budget: ConversionBudget): Data {
  const length = values.length;
  const size = (type as unknown as { listSize: number }).listSize;
  const childType = type.children[0]!.type as DataType;
  const validity = new Validity(length);
  budget.spend(length * size, `column "${column}" (${length} lists of ${size}, null ones included)`);
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
  const child = buildData(childType, flat, column, budget, (index) => rowOf(Math.floor(index / size)));
  return makeData({ type: type as never, length, child, ...validity.props } as never);
}

function buildList(type: DataType, values: readonly unknown[], column: string, rowOf: RowOf, budget: ConversionBudget): Data {
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
  budget.spend(total, `column "${column}" (list items)`);
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
  const child = buildData(childType, flat, column, budget, (index) => rowOf(owners[index]!));
  return makeData({ type: type as never, length, valueOffsets: offsets, child, ...validity.props } as never);
}

function buildStruct(type: DataType, values: readonly unknown[], column: string, rowOf: RowOf, budget: ConversionBudget): Data {
  const length = values.length;
  const validity = new Validity(length);
  budget.spend(length * type.children.length, `column "${column}" (struct fields)`);
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
      budget,
      rowOf,
    ),
  );
  return makeData({ type: type as never, length, children, ...validity.props } as never);
}

/**
 * Builds one column (or nested child) from its values. The caller has charged `values.length` to the budget
 * already (it allocated the array); nested lists and structs charge their children before allocating them.
 */
export function buildData(type: DataType, values: readonly unknown[], column: string, budget: ConversionBudget, rowOf: RowOf = identity): Data {
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
      // Written straight into one growing buffer: a Uint8Array per string (TextEncoder.encode) cost about 150
      // bytes and a backing store each, and most of the conversion's time (bench/conversion-memory.ts).
      const validity = new Validity(length);
      const offsets = new Int32Array(length + 1);
      let data = Buffer.allocUnsafe(Math.max(64, length * 8));
      let total = 0;
      for (let i = 0; i < length; i++) {
        const value = values[i];
        if (value === null || value === undefined) validity.setNull(i);
        else if (typeof value !== 'string') throw mismatch(rowOf(i), column, `expected string, got ${describe(value)}`);
        else {
          const room = total + 3 * value.length; // UTF-8 takes at most 3 bytes per UTF-16 unit
          if (room > data.length) {
            const grown = Buffer.allocUnsafe(Math.max(room, 2 * data.length));
            data.copy(grown, 0, 0, total);
            data = grown;
          }
          total += data.write(value, total, 'utf8');
        }
        offsets[i + 1] = total;
      }
      return makeData({ type: type as Utf8, length, valueOffsets: offsets, data: new Uint8Array(data.subarray(0, total)), ...validity.props });
    }
    case Type.FixedSizeList:
      return buildFixedSizeList(type, values, column, rowOf, budget);
    case Type.List:
      return buildList(type, values, column, rowOf, budget);
    case Type.Struct:
      return buildStruct(type, values, column, rowOf, budget);
    default:
      throw new GatewayError('GW_SCHEMA_MISMATCH', `column "${column}": Arrow type ${type} is not supported for JSON input`);
  }
}
