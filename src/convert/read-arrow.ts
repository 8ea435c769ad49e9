// The untrusted-input boundary for Arrow IPC: every Arrow body the gateway reads, from callers and from
// Wallaroo, comes through readArrow. apache-arrow trusts what the metadata declares, so before anything is
// materialised:
// - the schema's field count (nested fields counted) is read from the flatbuffer and capped, before
//   apache-arrow decodes it (its per-field cost would otherwise let a few megabytes stall the loop);
// - flatbuffer vector lengths are checked against their buffer (flatbuffer-guard.ts);
// - every column's lengths, offsets, bitmaps and dictionary indices are checked against its buffers;
// - every value the table stands for is charged to the conversion budget: list items, nulls of fixed-size lists
//   at full size, Null columns (which carry no buffers at all), dictionary entries as often as they are used.
// A body that fails any of these is a coded error, never an uncaught throw, a hang or a large allocation.
import { type Data, type DataType, type RecordBatch, RecordBatchFileReader, Table, tableFromIPC, Type, type Vector } from 'apache-arrow';
import type { Field as FieldMessage } from 'apache-arrow/fb/field';
import { Footer } from 'apache-arrow/fb/footer';
import { Message } from 'apache-arrow/fb/message';
import { MessageHeader } from 'apache-arrow/fb/message-header';
import { Schema as SchemaMessage } from 'apache-arrow/fb/schema';
import { ByteBuffer } from 'flatbuffers';
import { GatewayError } from '../errors.ts';
import { budgetFor, type ConversionBudget } from './budget.ts';
import './flatbuffer-guard.ts';
import './linear-schema-assign.ts';

const FILE_MAGIC = [0x41, 0x52, 0x52, 0x4f, 0x57, 0x31]; // "ARROW1"
/** The file footer ends with its int32 length and the closing magic. */
const FOOTER_TRAILER_BYTES = 4 + FILE_MAGIC.length;
const CONTINUATION = -1;

function invalid(message: string, cause?: unknown): GatewayError {
  return new GatewayError('GW_INVALID_ARROW', message, cause === undefined ? undefined : { cause });
}

function int32At(bytes: Uint8Array, at: number): number {
  return (bytes[at]! | (bytes[at + 1]! << 8) | (bytes[at + 2]! << 16) | (bytes[at + 3]! << 24)) | 0;
}

/** The schema message of a file (its footer's) or of a stream (its first message); null for an empty stream. */
function schemaMessage(bytes: Uint8Array, isFile: boolean): SchemaMessage | null {
  if (isFile) {
    const end = bytes.byteLength - FOOTER_TRAILER_BYTES;
    const length = int32At(bytes, end);
    if (length <= 0 || length > end - 8) throw invalid('the Arrow IPC file has a corrupt footer length');
    const schema = Footer.getRootAsFooter(new ByteBuffer(bytes.subarray(end - length, end))).schema();
    if (!schema) throw invalid('the Arrow IPC file has no schema');
    return schema;
  }
  let at = 4;
  let length = int32At(bytes, 0);
  if (length === CONTINUATION) {
    length = int32At(bytes, 4);
    at = 8;
  }
  if (length === 0) return null; // end-of-stream marker: a stream without a schema
  if (length < 0 || at + length > bytes.byteLength) throw invalid('the Arrow IPC stream is truncated in its first message');
  const message = Message.getRootAsMessage(new ByteBuffer(bytes.subarray(at, at + length)));
  if (message.headerType() !== MessageHeader.Schema) throw invalid('the Arrow IPC stream does not start with a schema message');
  return message.header(new SchemaMessage()) as SchemaMessage | null;
}

/** Fields of a schema message, nested ones counted; stops counting past `max`. */
function countFields(schema: SchemaMessage, max: number): number {
  let count = 0;
  const pending: FieldMessage[] = [];
  const push = (length: number, field: (i: number) => FieldMessage | null) => {
    for (let i = 0; i < length && count + pending.length <= max; i++) {
      const child = field(i);
      if (child) pending.push(child);
    }
  };
  push(schema.fieldsLength(), (i) => schema.fields(i));
  while (pending.length > 0 && count <= max) {
    const field = pending.pop()!;
    count++;
    push(field.childrenLength(), (i) => field.children(i));
  }
  return count + pending.length;
}

/** Charges values met at `path`; `detail` says what they are. Names are built only for a refusal. */
type Charge = (values: number, path: readonly string[], detail?: string) => void;

/** A column's name from its path: fields joined with dots, `[dictionary]` appended. */
function columnName(path: readonly string[]): string {
  return path.reduce((name, part) => (name === '' || part.startsWith('[') ? name + part : `${name}.${part}`), '');
}

function inconsistent(path: readonly string[], what: string): never {
  throw invalid(`the Arrow IPC body is inconsistent: column "${columnName(path)}" ${what}`);
}

function checkOffsets(offsets: ArrayLike<number | bigint> | undefined, length: number, limit: number, path: readonly string[]): void {
  if (!offsets || offsets.length < length + 1) inconsistent(path, 'has too few offsets');
  let previous = Number(offsets[0]);
  if (previous < 0) inconsistent(path, 'has a negative offset');
  for (let i = 1; i <= length; i++) {
    const next = Number(offsets[i]);
    if (next < previous) inconsistent(path, 'has decreasing offsets');
    previous = next;
  }
  if (previous > limit) inconsistent(path, `has offsets past its ${limit} values`);
}

/**
 * apache-arrow does not check a batch's buffers against the lengths its metadata declares. A corrupted length
 * or offset would then send a reader over billions of elements, so every column is checked before use:
 * lengths fit the buffers, offsets rise monotonically and stay within the child, dictionary indices point into
 * the dictionary, recursively. Every node's values are charged as they are met. `path` is a stack of field
 * names, pushed and popped, so nothing is allocated per node unless a check fails.
 */
function validateData(data: Data, path: string[], charge: Charge): void {
  const type = data.type as DataType;
  const { length } = data;
  charge(length, path);
  if (data.nullBitmap && data.nullBitmap.length > 0 && data.nullBitmap.length * 8 < data.offset + length) inconsistent(path, 'has a short validity bitmap');
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
      if (data.values && data.values.length < length * data.stride) inconsistent(path, `has ${data.values.length} values for ${length} rows`);
      break;
    case Type.Bool:
      if (data.values && data.values.length * 8 < data.offset + length) inconsistent(path, 'has a short bit buffer');
      break;
    case Type.Utf8:
    case Type.LargeUtf8:
    case Type.Binary:
    case Type.LargeBinary:
      checkOffsets(data.valueOffsets as ArrayLike<number | bigint>, length, (data.values as Uint8Array | undefined)?.length ?? 0, path);
      break;
    case Type.List:
    case Type.LargeList:
    case Type.Map:
      checkOffsets(data.valueOffsets as ArrayLike<number | bigint>, length, data.children[0]?.length ?? 0, path);
      break;
    case Type.FixedSizeList: {
      const size = (type as unknown as { listSize: number }).listSize;
      if ((data.children[0]?.length ?? 0) < length * size) inconsistent(path, `has ${data.children[0]?.length ?? 0} values for ${length} lists of ${size}`);
      break;
    }
    case Type.Struct:
      for (const child of data.children) if (child.length < length) inconsistent(path, `has a field shorter than ${length} rows`);
      break;
    case Type.Dictionary:
      validateDictionary(data, path, charge);
      return; // its value type's children belong to the dictionary, checked there
    default:
      break;
  }
  const fields = type.children;
  if (!fields) return;
  for (let i = 0; i < fields.length; i++) {
    const child = data.children[i];
    if (!child) continue;
    path.push(fields[i]!.name);
    validateData(child, path, charge);
    path.pop();
  }
}

/** Dictionary entries are checked (and charged) once; indices must point into them. */
function validateDictionary(data: Data, path: string[], charge: Charge): void {
  const dictionary = data.dictionary as Vector | undefined;
  if (!dictionary) inconsistent(path, 'has no dictionary');
  let nested = 0;
  path.push('[dictionary]');
  for (const chunk of dictionary.data) {
    validateData(chunk, path, (values, at, detail) => {
      charge(values, at, detail);
      nested += values;
    });
  }
  path.pop();
  const entries = dictionary.length;
  nested -= entries; // values inside the entries (list items, struct fields), beyond the entries themselves
  const indices = data.values as ArrayLike<number | bigint> | undefined;
  if (!indices || indices.length < data.length) inconsistent(path, 'has too few dictionary indices');
  const hasNulls = data.nullCount > 0;
  for (let i = 0; i < data.length; i++) {
    if (hasNulls && !data.getValid(i)) continue;
    const index = Number(indices[i]);
    if (!(index >= 0 && index < entries)) inconsistent(path, `has index ${index} past its ${entries}-entry dictionary`);
  }
  // Each use writes its entry again: an entry holds at most every nested value of the dictionary.
  if (nested > 0) charge(data.length * nested, path, 'dictionary entries as used');
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
  if (!schema) throw invalid('the Arrow IPC file has no schema');
  const batches: RecordBatch[] = [];
  for (let index = 0; index < reader.numRecordBatches; index++) {
    const batch = reader.readRecordBatch(index) as RecordBatch | null; // sync: the source is a byte array
    if (!batch) throw invalid(`record batch ${index} of the Arrow IPC file is missing or corrupt`);
    batches.push(batch);
  }
  return batches.length > 0 ? new Table(batches) : new Table(schema);
}

/**
 * Reads an Arrow IPC file or stream under `budget` (by default the default limits for this many bytes).
 * Anything unreadable is GW_INVALID_ARROW, anything too large once decoded GW_BODY_TOO_COMPLEX; never an
 * uncaught throw.
 */
export function readArrow(bytes: Uint8Array, budget: ConversionBudget = budgetFor(bytes.byteLength)): Table {
  if (bytes.byteLength === 0) throw new GatewayError('GW_EMPTY_BODY', 'the request body is empty');
  const isFile = bytes.byteLength >= 8 && FILE_MAGIC.every((byte, i) => bytes[i] === byte);
  const isStream = !isFile && bytes.byteLength >= 8 && bytes[0] === 0xff && bytes[1] === 0xff && bytes[2] === 0xff && bytes[3] === 0xff;
  if (!isFile && !isStream) {
    throw invalid('the body is not Arrow IPC: no "ARROW1" file magic and no stream message header');
  }
  if (isFile && (bytes.byteLength < 8 + FOOTER_TRAILER_BYTES || !FILE_MAGIC.every((byte, i) => bytes[bytes.byteLength - 6 + i] === byte))) {
    throw invalid('the Arrow IPC file is truncated: its closing "ARROW1" magic is missing');
  }
  let table: Table;
  try {
    const schema = schemaMessage(bytes, isFile);
    if (!schema) throw invalid('the Arrow IPC stream has no schema message');
    budget.checkColumns(countFields(schema, budget.limits.maxColumns), 'the Arrow IPC body');
    table = isFile ? readArrowFile(bytes) : tableFromIPC(bytes);
    const charge: Charge = (values, path, detail) => {
      if (!budget.take(values)) throw budget.tooMany(`column "${columnName(path)}"${detail ? ` (${detail})` : ''}`);
    };
    const path: string[] = [];
    for (const batch of table.batches) {
      // Rows are values too: a batch of no columns still writes {} for each.
      if (!budget.take(batch.numRows)) throw budget.tooMany('the rows of the Arrow IPC body');
      batch.data.children.forEach((child, i) => {
        path.push(table.schema.fields[i]?.name ?? String(i));
        validateData(child, path, charge);
        path.pop();
      });
      void batch.data.children.map((child) => child.nullCount); // lazily decoded: surface corruption here
    }
  } catch (error) {
    if (error instanceof GatewayError) throw error;
    // Corrupt input that got past the checks and failed inside apache-arrow: its message describes our
    // internals, not the body, so it goes to the log (cause) and not to the caller.
    throw invalid('the Arrow IPC body could not be read: its metadata or buffers are corrupt', error);
  }
  return table;
}
