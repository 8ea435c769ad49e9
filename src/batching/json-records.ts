// pandas-records JSON bodies read just enough to batch them: where each row object starts and ends, and the keys
// of the rows (so only bodies with the same columns in the same order share a call). Rows are never re-encoded:
// a batch is the members' row text joined with commas, and each member's answer is a slice of Wallaroo's answer
// text, byte for byte. One pass over the bytes, no recursion; a body this cannot follow is simply not batched
// (it goes to Wallaroo alone, which judges it).

/** Where a pandas-records array's rows are, and the columns they share. */
export interface JsonRecords {
  /** Offsets of each row object: rows[i] = [start, end) in the body. */
  starts: number[];
  ends: number[];
  /** The keys of every row, as written (null when rows differ in keys or their order). */
  columns: string | null;
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;
const COMMA = 0x2c;
/** Nesting beyond this is left to Wallaroo (the body is sent alone). */
const MAX_DEPTH = 64;

const isSpace = (byte: number) => byte === 0x20 || byte === 0x0a || byte === 0x0d || byte === 0x09;

/** The end (exclusive) of the string starting at `at` (a quote), or -1 when it is not closed. */
function stringEnd(body: Uint8Array, at: number): number {
  for (let from = at + 1; ; ) {
    // indexOf is native: long strings cost little.
    const quote = body.indexOf(QUOTE, from);
    if (quote < 0) return -1;
    let slashes = 0;
    for (let i = quote - 1; i > at && body[i] === BACKSLASH; i--) slashes++;
    if (slashes % 2 === 0) return quote + 1;
    from = quote + 1;
  }
}

/**
 * The rows of a pandas-records array (a JSON array of objects), or null when the body is not one this scan can
 * follow (then it is not batched). `withColumns`: also collect each row's keys.
 */
export function scanRecords(body: Uint8Array, withColumns: boolean): JsonRecords | null {
  const starts: number[] = [];
  const ends: number[] = [];
  const closers: number[] = [];
  let columns: string | null = null;
  let sameColumns = true;
  let rowKeys = '';
  let expectKey = false;
  let i = 0;
  while (i < body.length && isSpace(body[i]!)) i++;
  if (body[i] !== OPEN_ARRAY) return null;
  i++;
  let expectRow = true; // after '[' or ','
  for (; i < body.length; i++) {
    const byte = body[i]!;
    if (isSpace(byte)) continue;
    const depth = closers.length;
    if (depth === 0) {
      // Between rows, at the top array's level.
      if (byte === OPEN_OBJECT && expectRow) {
        starts.push(i);
        closers.push(CLOSE_OBJECT);
        expectRow = false;
        expectKey = true;
        rowKeys = '';
      } else if (byte === COMMA && !expectRow && starts.length > 0) {
        expectRow = true;
      } else if (byte === CLOSE_ARRAY && (starts.length === 0 || !expectRow)) {
        for (i++; i < body.length; i++) if (!isSpace(body[i]!)) return null;
        return { starts, ends, columns: sameColumns ? (columns ?? '') : null };
      } else {
        return null;
      }
      continue;
    }
    if (byte === QUOTE) {
      const end = stringEnd(body, i);
      if (end < 0) return null;
      if (withColumns && depth === 1 && expectKey) {
        rowKeys += `${Buffer.from(body.buffer, body.byteOffset + i, end - i).toString('latin1')},`;
        expectKey = false;
      }
      i = end - 1;
    } else if (byte === OPEN_OBJECT || byte === OPEN_ARRAY) {
      if (depth >= MAX_DEPTH) return null;
      closers.push(byte === OPEN_OBJECT ? CLOSE_OBJECT : CLOSE_ARRAY);
    } else if (byte === CLOSE_OBJECT || byte === CLOSE_ARRAY) {
      if (closers.pop() !== byte) return null;
      if (closers.length === 0) {
        ends.push(i + 1);
        if (withColumns) {
          if (columns === null) columns = rowKeys;
          else if (columns !== rowKeys) sameColumns = false;
        }
      }
    } else if (byte === COMMA && depth === 1) {
      expectKey = true;
    }
  }
  return null; // the array never closed
}

/** One pandas-records array of every member's rows, in order; each member's row text is copied as it came. */
export function joinRecords(bodies: readonly Uint8Array[], records: readonly JsonRecords[]): Buffer {
  const parts: Uint8Array[] = [Buffer.from('[')];
  const comma = Buffer.from(',');
  bodies.forEach((body, index) => {
    const { starts, ends } = records[index]!;
    if (index > 0) parts.push(comma);
    parts.push(body.subarray(starts[0], ends[ends.length - 1]));
  });
  parts.push(Buffer.from(']'));
  return Buffer.concat(parts);
}

/**
 * Wallaroo's answer cut into one pandas-records array per member (`rowCounts` rows each, in order), each the
 * answer's own text; null when the answer does not have exactly one row per input row.
 */
export function splitRecords(answer: Buffer, rowCounts: readonly number[]): Buffer[] | null {
  const records = scanRecords(answer, false);
  const total = rowCounts.reduce((sum, rows) => sum + rows, 0);
  if (!records || records.starts.length !== total) return null;
  const slices: Buffer[] = [];
  let row = 0;
  for (const rows of rowCounts) {
    const text = answer.subarray(records.starts[row], records.ends[row + rows - 1]);
    slices.push(Buffer.concat([Buffer.from('['), text, Buffer.from(']')], text.length + 2));
    row += rows;
  }
  return slices;
}
