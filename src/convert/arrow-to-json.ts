import { type Data, type DataType, makeVector, type Table, tableFromIPC, Type } from 'apache-arrow';
import { GatewayError } from '../errors.ts';

/**
 * Arrow -> pandas-records JSON, as pandas `to_json(orient="records")` writes Wallaroo's answers: structs as
 * objects, lists as arrays, timestamps as epoch milliseconds, NaN/null as null, int64 with all its digits.
 * Floats are written in shortest round-trip form for their own width (a float32 prints as the shortest decimal
 * that reads back to the same float32, as numpy's repr does). Each column gets a writer compiled once from
 * its type, which reads the typed arrays directly.
 */

type Writer = (index: number) => string;

const POW10 = Array.from({ length: 23 }, (_, i) => 10 ** i); // exact powers of ten up to 1e22

/** Shortest decimal that reads back as the same float32. 'null' for NaN and infinities (JSON has neither). */
export function formatFloat32(value: number): string {
  if (value !== value || value === Infinity || value === -Infinity) return 'null';
  if (value === 0) return '0';
  const abs = value < 0 ? -value : value;
  let exponent = Math.floor(Math.log10(abs));
  if (10 ** exponent > abs) exponent--;
  else if (10 ** (exponent + 1) <= abs) exponent++;
  for (let digits = 1; digits <= 9; digits++) {
    const scale = digits - 1 - exponent;
    let candidate: number;
    if (scale >= 0 && scale <= 22) candidate = Math.round(abs * POW10[scale]!) / POW10[scale]!;
    else if (scale < 0 && scale >= -22) candidate = Math.round(abs / POW10[-scale]!) * POW10[-scale]!;
    else break; // subnormal or huge: the slow exact path below
    if (Math.fround(candidate) === abs) return String(value < 0 ? -candidate : candidate);
  }
  for (let digits = 1; digits <= 9; digits++) {
    const candidate = Number(abs.toPrecision(digits));
    if (Math.fround(candidate) === abs) return String(value < 0 ? -candidate : candidate);
  }
  return String(value);
}

export function formatFloat64(value: number): string {
  return value !== value || value === Infinity || value === -Infinity ? 'null' : String(value);
}

const MS_PER_UNIT_BIG = [1000n, 1n, 1n, 1n]; // TimeUnit SECOND, MILLISECOND, MICROSECOND, NANOSECOND
const UNIT_PER_MS_BIG = [1n, 1n, 1000n, 1_000_000n];

function genericJson(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  if (typeof value === 'bigint') return value.toString();
  if (typeof value === 'number') return formatFloat64(value);
  if (typeof value === 'string' || typeof value === 'boolean') return JSON.stringify(value);
  if (value instanceof Date) return String(value.getTime());
  if (value instanceof Uint8Array) return JSON.stringify(Buffer.from(value).toString('base64'));
  if (ArrayBuffer.isView(value) || Array.isArray(value) || (typeof value === 'object' && Symbol.iterator in value && !(value instanceof Map))) {
    return `[${Array.from(value as Iterable<unknown>, genericJson).join(',')}]`;
  }
  if (value instanceof Map) {
    return `{${Array.from(value, ([k, v]) => `${JSON.stringify(String(k))}:${genericJson(v)}`).join(',')}}`;
  }
  const plain = typeof (value as { toJSON?: () => unknown }).toJSON === 'function' ? (value as { toJSON: () => unknown }).toJSON() : value;
  return `{${Object.entries(plain as Record<string, unknown>).map(([k, v]) => `${JSON.stringify(k)}:${genericJson(v)}`).join(',')}}`;
}

function withNulls(data: Data, write: Writer): Writer {
  if (data.nullCount === 0 || !data.nullBitmap) return write;
  return (index) => (data.getValid(index) ? write(index) : 'null');
}

function compileWriter(data: Data): Writer {
  const type = data.type as DataType;
  switch (type.typeId) {
    case Type.Null:
      return () => 'null';
    case Type.Bool: {
      const bits = data.values as Uint8Array;
      const offset = data.offset;
      return withNulls(data, (i) => ((bits[(offset + i) >> 3]! >> ((offset + i) & 7)) & 1 ? 'true' : 'false'));
    }
    case Type.Int: {
      const values = data.values as ArrayLike<number | bigint>;
      return withNulls(data, (i) => String(values[i]));
    }
    case Type.Float: {
      const precision = (type as unknown as { precision: number }).precision;
      if (precision === 0) break; // float16: generic path decodes it
      const values = data.values as Float32Array | Float64Array;
      return withNulls(data, precision === 1 ? (i) => formatFloat32(values[i]!) : (i) => formatFloat64(values[i]!));
    }
    case Type.Timestamp: {
      const values = data.values as BigInt64Array;
      const unit = (type as unknown as { unit: number }).unit;
      const multiply = MS_PER_UNIT_BIG[unit]!;
      const divide = UNIT_PER_MS_BIG[unit]!;
      return withNulls(data, (i) => String((values[i]! * multiply) / divide));
    }
    case Type.Utf8:
    case Type.LargeUtf8: {
      const bytes = data.values as Uint8Array;
      const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      const offsets = data.valueOffsets as Int32Array | BigInt64Array;
      return withNulls(data, (i) => JSON.stringify(text.toString('utf8', Number(offsets[i]), Number(offsets[i + 1]))));
    }
    case Type.FixedSizeList: {
      const size = (type as unknown as { listSize: number }).listSize;
      const child = data.children[0]!;
      const childType = child.type as DataType;
      if (childType.typeId === Type.Float && (child.nullCount === 0 || !child.nullBitmap) && (childType as unknown as { precision: number }).precision !== 0) {
        // The hot path of every Wallaroo tensor answer.
        const values = child.values as Float32Array | Float64Array;
        const format = (childType as unknown as { precision: number }).precision === 1 ? formatFloat32 : formatFloat64;
        return withNulls(data, (i) => {
          const base = i * size;
          let out = '[';
          for (let j = 0; j < size; j++) out += (j === 0 ? '' : ',') + format(values[base + j]!);
          return `${out}]`;
        });
      }
      const element = compileWriter(child);
      return withNulls(data, (i) => {
        const parts = new Array<string>(size);
        for (let j = 0; j < size; j++) parts[j] = element(i * size + j);
        return `[${parts.join(',')}]`;
      });
    }
    case Type.List:
    case Type.LargeList: {
      const offsets = data.valueOffsets as Int32Array | BigInt64Array;
      const element = compileWriter(data.children[0]!);
      return withNulls(data, (i) => {
        const start = Number(offsets[i]);
        const end = Number(offsets[i + 1]);
        let out = '[';
        for (let j = start; j < end; j++) out += (j === start ? '' : ',') + element(j);
        return `${out}]`;
      });
    }
    case Type.Struct: {
      const fields = type.children.map((field, k) => ({ key: `${JSON.stringify(field.name)}:`, write: compileWriter(data.children[k]!) }));
      return withNulls(data, (i) => {
        let out = '{';
        for (let k = 0; k < fields.length; k++) out += (k === 0 ? '' : ',') + fields[k]!.key + fields[k]!.write(i);
        return `${out}}`;
      });
    }
    default:
      break;
  }
  const vector = makeVector(data);
  return (index) => genericJson(vector.get(index));
}

/** The rows of a table as pandas-records JSON text. */
export function tableToJson(table: Table): string {
  const names = table.schema.fields.map((field) => `${JSON.stringify(field.name)}:`);
  let out = '[';
  let first = true;
  for (const batch of table.batches) {
    const writers = batch.data.children.map(compileWriter);
    for (let row = 0; row < batch.numRows; row++) {
      let line = first ? '{' : ',{';
      first = false;
      for (let c = 0; c < writers.length; c++) line += (c === 0 ? '' : ',') + names[c] + writers[c]!(row);
      out += `${line}}`;
    }
  }
  return `${out}]`;
}

const FILE_MAGIC = [0x41, 0x52, 0x52, 0x4f, 0x57, 0x31]; // "ARROW1"

/** Reads an Arrow IPC file or stream; anything unreadable becomes GW_INVALID_ARROW, never an uncaught throw. */
export function readArrow(bytes: Uint8Array): Table {
  if (bytes.byteLength === 0) throw new GatewayError('GW_EMPTY_BODY', 'the request body is empty');
  const isFile = FILE_MAGIC.every((byte, i) => bytes[i] === byte);
  const isStream = bytes.byteLength >= 8 && bytes[0] === 0xff && bytes[1] === 0xff && bytes[2] === 0xff && bytes[3] === 0xff;
  if (!isFile && !isStream) {
    throw new GatewayError('GW_INVALID_ARROW', 'the body is not Arrow IPC: no "ARROW1" file magic and no stream message header');
  }
  if (isFile && !FILE_MAGIC.every((byte, i) => bytes[bytes.byteLength - 6 + i] === byte)) {
    throw new GatewayError('GW_INVALID_ARROW', 'the Arrow IPC file is truncated: its closing "ARROW1" magic is missing');
  }
  let table: Table;
  try {
    table = tableFromIPC(bytes);
    // Decoding is lazy in places: touch every batch so corruption surfaces here, inside the try.
    for (const batch of table.batches) void batch.data.children.map((child) => child.nullCount);
  } catch (error) {
    throw new GatewayError('GW_INVALID_ARROW', `the Arrow IPC body could not be read: ${(error as Error).message}`);
  }
  if (table.schema.fields.length === 0 && isStream && bytes.byteLength > 8 && table.batches.length === 0 && table.numRows === 0) {
    // a stream that ended before its schema message
    throw new GatewayError('GW_INVALID_ARROW', 'the Arrow IPC stream has no schema message');
  }
  return table;
}

export function arrowToJson(bytes: Uint8Array): string {
  const table = readArrow(bytes);
  try {
    return tableToJson(table);
  } catch (error) {
    throw new GatewayError('GW_INVALID_ARROW', `the Arrow IPC body could not be decoded: ${(error as Error).message}`);
  }
}
