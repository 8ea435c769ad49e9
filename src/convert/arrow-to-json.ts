import { type Data, type DataType, makeVector, type RecordBatch, RecordBatchFileReader, Table, tableFromIPC, Type } from 'apache-arrow';
import { GatewayError } from '../errors.ts';
import './flatbuffer-guard.ts';

/**
 * Arrow -> pandas-records JSON, as pandas `to_json(orient="records")` writes Wallaroo's answers: structs as
 * objects, lists as arrays, timestamps as epoch milliseconds, NaN/null as null, int64 with all its digits.
 * Floats are written in shortest round-trip form for their own width (a float32 prints as the shortest decimal
 * that reads back to the same float32, as numpy's repr does). Each column gets a writer compiled once from
 * its type, which reads the typed arrays directly.
 */

type Writer = (index: number) => void;

const POW10 = Float64Array.from({ length: 23 }, (_, i) => 10 ** i); // exact powers of ten up to 1e22
// Reading a double's binary exponent without Math.log10.
const bitsOfDouble = new Float64Array(1);
const wordsOfDouble = new Uint32Array(bitsOfDouble.buffer);
const HIGH_WORD = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1 ? 1 : 0;

// The shortest float32 decimal, as significand × 10^power; module-level so the hot loop allocates nothing.
let shortestSignificand = 0;
let shortestPower = 0;

/**
 * Finds the shortest decimal that reads back as the same float32 (what numpy's repr prints), leaving it in
 * shortestSignificand/shortestPower; false where only the slow exact path applies (subnormals, huge values).
 * Round-tripping is monotone in the digit count (if d digits round-trip, d+1 do), so the search starts at 7,
 * where most float32s land, and steps toward the answer: about two probes a value.
 */
function shortestFloat32(abs: number): boolean {
  bitsOfDouble[0] = abs;
  const binaryExponent = ((wordsOfDouble[HIGH_WORD]! >>> 20) & 0x7ff) - 1023;
  // floor(binaryExponent × log10(2)), exact over this range (Ryu's integer approximation).
  let exponent = (binaryExponent * 78913) >> 18;
  if (exponent > 15 || exponent < -20) return false;
  if (pow10(exponent) > abs) exponent--;
  else if (pow10(exponent + 1) <= abs) exponent++;
  let digits = 7;
  let significand = roundedSignificand(abs, exponent, digits);
  if (roundTrips(significand, exponent, digits, abs)) {
    for (let fewer = 6; fewer >= 1; fewer--) {
      const shorter = roundedSignificand(abs, exponent, fewer);
      if (!roundTrips(shorter, exponent, fewer, abs)) break;
      significand = shorter;
      digits = fewer;
    }
  } else {
    do {
      digits++;
      significand = roundedSignificand(abs, exponent, digits);
    } while (digits < 9 && !roundTrips(significand, exponent, digits, abs));
    if (!roundTrips(significand, exponent, digits, abs)) return false;
  }
  let power = exponent - (digits - 1);
  while (significand % 10 === 0) {
    significand /= 10;
    power++;
  }
  shortestSignificand = significand;
  shortestPower = power;
  return true;
}

function pow10(exponent: number): number {
  return exponent >= 0 ? POW10[exponent]! : 1 / POW10[-exponent]!;
}

/** round(abs × 10^(digits-1-exponent)): the `digits` leading decimal digits of abs, as an integer. */
function roundedSignificand(abs: number, exponent: number, digits: number): number {
  const scale = digits - 1 - exponent;
  return scale >= 0 ? Math.round(abs * POW10[scale]!) : Math.round(abs / POW10[-scale]!);
}

/** Does significand × 10^(exponent-digits+1) read back as `abs` in float32? (Division by an exact power of ten.) */
function roundTrips(significand: number, exponent: number, digits: number, abs: number): boolean {
  const scale = digits - 1 - exponent;
  const candidate = scale >= 0 ? significand / POW10[scale]! : significand * POW10[-scale]!;
  return Math.fround(candidate) === abs;
}

/** Exact but slow: subnormals and values whose scaling would leave the exact powers of ten. */
function formatFloat32Slow(value: number, abs: number): string {
  for (let digits = 1; digits <= 9; digits++) {
    const candidate = Number(abs.toPrecision(digits));
    if (Math.fround(candidate) === abs) return String(value < 0 ? -candidate : candidate);
  }
  return String(value);
}

/** Growable byte output for JSON text: the hot path writes ASCII digits straight into a Buffer. */
export class JsonOutput {
  private buffer: Buffer;
  private position = 0;

  constructor(initialBytes = 64 * 1024) {
    this.buffer = Buffer.allocUnsafe(initialBytes);
  }

  private ensure(extra: number): void {
    if (this.position + extra <= this.buffer.length) return;
    let size = this.buffer.length * 2;
    while (size < this.position + extra) size *= 2;
    const grown = Buffer.allocUnsafe(size);
    this.buffer.copy(grown, 0, 0, this.position);
    this.buffer = grown;
  }

  byte(code: number): void {
    this.ensure(1);
    this.buffer[this.position++] = code;
  }

  /** Text known to be ASCII (digits, punctuation, pre-escaped keys). */
  ascii(text: string): void {
    this.ensure(text.length);
    for (let i = 0; i < text.length; i++) this.buffer[this.position++] = text.charCodeAt(i);
  }

  /** Any text (already JSON-escaped), written as UTF-8. */
  text(text: string): void {
    this.ensure(text.length * 3);
    this.position += this.buffer.write(text, this.position, 'utf8');
  }

  /** A non-negative integer below 2^53. */
  float32(value: number): void {
    if (value !== value || value === Infinity || value === -Infinity) return this.ascii('null');
    if (value === 0) return this.byte(48);
    const abs = value < 0 ? -value : value;
    if (!shortestFloat32(abs)) return this.ascii(formatFloat32Slow(value, abs));
    let significand = shortestSignificand;
    let k = 1; // digit count; float32 significands have at most 9
    while (k < 10 && significand >= POW10[k]!) k++;
    const n = k + shortestPower; // where the decimal point goes, counted from the first digit
    this.ensure(k + 30);
    const out = this.buffer;
    let at = this.position;
    if (value < 0) out[at++] = 45;
    // ECMAScript Number::toString(10) layout, digits written straight into place from the last one.
    if (0 < n && n < k) {
      let last = at + k;
      for (let i = k - 1; i >= n; i--) {
        const next = (significand / 10) | 0;
        out[last--] = 48 + significand - next * 10;
        significand = next;
      }
      out[last--] = 46;
      for (let i = n - 1; i >= 0; i--) {
        const next = (significand / 10) | 0;
        out[last--] = 48 + significand - next * 10;
        significand = next;
      }
      at += k + 1;
    } else if (k <= n && n <= 21) {
      for (let last = at + k - 1; last >= at; last--) {
        const next = (significand / 10) | 0;
        out[last] = 48 + significand - next * 10;
        significand = next;
      }
      at += k;
      for (let i = k; i < n; i++) out[at++] = 48;
    } else if (-6 < n && n <= 0) {
      out[at++] = 48;
      out[at++] = 46;
      for (let i = 0; i < -n; i++) out[at++] = 48;
      for (let last = at + k - 1; last >= at; last--) {
        const next = (significand / 10) | 0;
        out[last] = 48 + significand - next * 10;
        significand = next;
      }
      at += k;
    } else {
      const digits = String(significand);
      out[at++] = digits.charCodeAt(0);
      if (k > 1) {
        out[at++] = 46;
        for (let i = 1; i < k; i++) out[at++] = digits.charCodeAt(i);
      }
      out[at++] = 101;
      const e = n - 1;
      out[at++] = e < 0 ? 45 : 43;
      const text = String(Math.abs(e));
      for (let i = 0; i < text.length; i++) out[at++] = text.charCodeAt(i);
    }
    this.position = at;
  }

  float64(value: number): void {
    this.ascii(formatFloat64(value));
  }

  result(): Buffer {
    return this.buffer.subarray(0, this.position);
  }

  reset(): void {
    this.position = 0;
  }
}

const scratchOutput = new JsonOutput(64);

/**
 * Shortest decimal that reads back as the same float32; 'null' for NaN and the infinities, which JSON lacks.
 * The text follows ECMAScript's Number::toString layout, so it is what JSON.stringify prints for that decimal.
 */
export function formatFloat32(value: number): string {
  scratchOutput.reset();
  scratchOutput.float32(value);
  return scratchOutput.result().toString('latin1');
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

const NULL = 'null';
const COMMA = 44;

function withNulls(data: Data, out: JsonOutput, write: Writer): Writer {
  if (data.nullCount === 0 || !data.nullBitmap) return write;
  return (index) => (data.getValid(index) ? write(index) : out.ascii(NULL));
}

function compileWriter(data: Data, out: JsonOutput): Writer {
  const type = data.type as DataType;
  switch (type.typeId) {
    case Type.Null:
      return () => out.ascii(NULL);
    case Type.Bool: {
      const bits = data.values as Uint8Array;
      const offset = data.offset;
      return withNulls(data, out, (i) => out.ascii((bits[(offset + i) >> 3]! >> ((offset + i) & 7)) & 1 ? 'true' : 'false'));
    }
    case Type.Int: {
      const values = data.values as ArrayLike<number | bigint>;
      return withNulls(data, out, (i) => out.ascii(String(values[i])));
    }
    case Type.Float: {
      const precision = (type as unknown as { precision: number }).precision;
      if (precision === 0) break; // float16: the generic path decodes it
      const values = data.values as Float32Array | Float64Array;
      return withNulls(data, out, precision === 1 ? (i) => out.float32(values[i]!) : (i) => out.float64(values[i]!));
    }
    case Type.Timestamp: {
      const values = data.values as BigInt64Array;
      const unit = (type as unknown as { unit: number }).unit;
      const multiply = MS_PER_UNIT_BIG[unit]!;
      const divide = UNIT_PER_MS_BIG[unit]!;
      return withNulls(data, out, (i) => out.ascii(String((values[i]! * multiply) / divide)));
    }
    case Type.Utf8:
    case Type.LargeUtf8: {
      const bytes = data.values as Uint8Array;
      const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      const offsets = data.valueOffsets as Int32Array | BigInt64Array;
      return withNulls(data, out, (i) => out.text(JSON.stringify(text.toString('utf8', Number(offsets[i]), Number(offsets[i + 1])))));
    }
    case Type.FixedSizeList: {
      const size = (type as unknown as { listSize: number }).listSize;
      const child = data.children[0]!;
      const childType = child.type as DataType;
      const precision = (childType as unknown as { precision?: number }).precision;
      if (childType.typeId === Type.Float && precision !== 0 && (child.nullCount === 0 || !child.nullBitmap)) {
        // The hot path of every Wallaroo tensor: typed array in, digits out, no intermediate strings.
        const values = child.values as Float32Array | Float64Array;
        return withNulls(data, out, (i) => {
          const base = i * size;
          out.byte(91);
          for (let j = 0; j < size; j++) {
            if (j !== 0) out.byte(COMMA);
            if (precision === 1) out.float32(values[base + j]!);
            else out.float64(values[base + j]!);
          }
          out.byte(93);
        });
      }
      const element = compileWriter(child, out);
      return withNulls(data, out, (i) => {
        out.byte(91);
        for (let j = 0; j < size; j++) {
          if (j !== 0) out.byte(COMMA);
          element(i * size + j);
        }
        out.byte(93);
      });
    }
    case Type.List:
    case Type.LargeList: {
      const offsets = data.valueOffsets as Int32Array | BigInt64Array;
      const element = compileWriter(data.children[0]!, out);
      return withNulls(data, out, (i) => {
        const start = Number(offsets[i]);
        const end = Number(offsets[i + 1]);
        out.byte(91);
        for (let j = start; j < end; j++) {
          if (j !== start) out.byte(COMMA);
          element(j);
        }
        out.byte(93);
      });
    }
    case Type.Struct: {
      const fields = type.children.map((field, k) => ({ key: `${JSON.stringify(field.name)}:`, write: compileWriter(data.children[k]!, out) }));
      return withNulls(data, out, (i) => {
        out.byte(123);
        for (let k = 0; k < fields.length; k++) {
          if (k !== 0) out.byte(COMMA);
          out.text(fields[k]!.key);
          fields[k]!.write(i);
        }
        out.byte(125);
      });
    }
    default:
      break;
  }
  const vector = makeVector(data);
  return (index) => out.text(genericJson(vector.get(index)));
}

/** The rows of a table as pandas-records JSON, UTF-8 bytes. */
export function tableToJsonBytes(table: Table): Buffer {
  const out = new JsonOutput(Math.max(1024, table.numRows * 64));
  const names = table.schema.fields.map((field) => `${JSON.stringify(field.name)}:`);
  out.byte(91);
  let first = true;
  for (const batch of table.batches) {
    const writers = batch.data.children.map((child) => compileWriter(child, out));
    for (let row = 0; row < batch.numRows; row++) {
      if (!first) out.byte(COMMA);
      first = false;
      out.byte(123);
      for (let c = 0; c < writers.length; c++) {
        if (c !== 0) out.byte(COMMA);
        out.text(names[c]!);
        writers[c]!(row);
      }
      out.byte(125);
    }
  }
  out.byte(93);
  return out.result();
}

/** The rows of a table as pandas-records JSON text. */
export function tableToJson(table: Table): string {
  return tableToJsonBytes(table).toString('utf8');
}

/**
 * apache-arrow does not check a batch's buffers against the lengths its metadata declares. A corrupted length
 * or offset would then send a reader over billions of elements, so every column is checked before use:
 * lengths fit the buffers, offsets rise monotonically and stay within the child, recursively.
 */
function validateData(data: Data, path: string): void {
  const type = data.type as DataType;
  const { length } = data;
  const fail = (what: string): never => {
    throw new GatewayError('GW_INVALID_ARROW', `the Arrow IPC body is inconsistent: column "${path}" ${what}`);
  };
  if (data.nullBitmap && data.nullBitmap.length > 0 && data.nullBitmap.length * 8 < data.offset + length) fail('has a short validity bitmap');
  const checkOffsets = (offsets: ArrayLike<number | bigint> | undefined, limit: number) => {
    if (!offsets || offsets.length < length + 1) return fail('has too few offsets');
    let previous = Number(offsets[0]);
    if (previous < 0) fail('has a negative offset');
    for (let i = 1; i <= length; i++) {
      const next = Number(offsets[i]);
      if (next < previous) fail('has decreasing offsets');
      previous = next;
    }
    if (previous > limit) fail(`has offsets past its ${limit} values`);
  };
  switch (type.typeId) {
    case Type.Int:
    case Type.Float:
    case Type.Timestamp:
    case Type.Date:
    case Type.Time:
    case Type.Decimal:
    case Type.Duration:
    case Type.FixedSizeBinary:
      // stride: elements of `values` per row (a FixedSizeBinary's byte width, a Decimal's 32-bit words)
      if (data.values && data.values.length < length * data.stride) fail(`has ${data.values.length} values for ${length} rows`);
      break;
    case Type.Bool:
      if (data.values && data.values.length * 8 < data.offset + length) fail('has a short bit buffer');
      break;
    case Type.Utf8:
    case Type.LargeUtf8:
    case Type.Binary:
    case Type.LargeBinary:
      checkOffsets(data.valueOffsets as ArrayLike<number | bigint>, (data.values as Uint8Array | undefined)?.length ?? 0);
      break;
    case Type.List:
    case Type.LargeList:
    case Type.Map:
      checkOffsets(data.valueOffsets as ArrayLike<number | bigint>, data.children[0]?.length ?? 0);
      break;
    case Type.FixedSizeList: {
      const size = (type as unknown as { listSize: number }).listSize;
      if ((data.children[0]?.length ?? 0) < length * size) fail(`has ${data.children[0]?.length ?? 0} values for ${length} lists of ${size}`);
      break;
    }
    case Type.Struct:
      for (const child of data.children) if (child.length < length) fail(`has a field shorter than ${length} rows`);
      break;
    default:
      break;
  }
  type.children?.forEach((field, i) => {
    const child = data.children[i];
    if (child) validateData(child, `${path}.${field.name}`);
  });
}

/**
 * Reads an Arrow file batch by batch through its footer. apache-arrow's iterating file reader loops forever when
 * a corrupted footer points a block at a message that is not a record batch (found by fuzzing); reading each
 * block by index cannot loop, and a bad block becomes a coded error.
 */
function readArrowFile(bytes: Uint8Array): Table {
  const reader = RecordBatchFileReader.from(bytes);
  reader.open();
  const { schema } = reader;
  if (!schema) throw new GatewayError('GW_INVALID_ARROW', 'the Arrow IPC file has no schema');
  const batches: RecordBatch[] = [];
  for (let index = 0; index < reader.numRecordBatches; index++) {
    const batch = reader.readRecordBatch(index) as RecordBatch | null; // sync: the source is a byte array
    if (!batch) throw new GatewayError('GW_INVALID_ARROW', `record batch ${index} of the Arrow IPC file is missing or corrupt`);
    batches.push(batch);
  }
  return batches.length > 0 ? new Table(batches) : new Table(schema);
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
    table = isFile ? readArrowFile(bytes) : tableFromIPC(bytes);
    // Every column but a Null one needs at least a bit per row, so no honest body has more rows than 8 per
    // byte; corrupt metadata claiming more would have the writer print millions of rows from nothing.
    if (table.numRows > bytes.byteLength * 8 + 1024) {
      throw new GatewayError('GW_INVALID_ARROW', `the Arrow IPC body declares ${table.numRows} rows in ${bytes.byteLength} bytes`);
    }
    for (const batch of table.batches) {
      batch.data.children.forEach((child, i) => validateData(child, table.schema.fields[i]?.name ?? String(i)));
      void batch.data.children.map((child) => child.nullCount); // lazily decoded: surface corruption here
    }
  } catch (error) {
    if (error instanceof GatewayError) throw error;
    throw new GatewayError('GW_INVALID_ARROW', `the Arrow IPC body could not be read: ${(error as Error).message}`);
  }
  if (table.schema.fields.length === 0 && isStream && bytes.byteLength > 8 && table.batches.length === 0 && table.numRows === 0) {
    // a stream that ended before its schema message
    throw new GatewayError('GW_INVALID_ARROW', 'the Arrow IPC stream has no schema message');
  }
  return table;
}

export function arrowToJson(bytes: Uint8Array): Buffer {
  const table = readArrow(bytes);
  try {
    return tableToJsonBytes(table);
  } catch (error) {
    throw new GatewayError('GW_INVALID_ARROW', `the Arrow IPC body could not be decoded: ${(error as Error).message}`);
  }
}
