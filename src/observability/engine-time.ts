// Engine time from any Wallaroo answer shape. Wallaroo reports it per answer row in `metadata.elapsed` (a list of
// nanosecond durations, one per pipeline step); the gateway reads the first row's, so operators see engine time
// beside upstream and gateway time. Shapes seen in Wallaroo's recorded answers (WallarooLabs/Wallaroo_Tutorials):
// - nested JSON, 2023.4 to 2025: {"time":..,"in":{..},"out":{..},"anomaly":{"count":0},
//   "metadata":{"last_model":"..","pipeline_version":"..","elapsed":[532259,423392945],"dropped":[],..}}
// - flattened JSON (dataset.separator, "." by default in newer releases), keys sorted, the inputs first:
//   {"anomaly.count":0,"in.dense_input":[..],"metadata.dropped":[],"metadata.elapsed":[4976659,5674079],..}
// - Arrow: a `metadata` struct column with an `elapsed` list, or a flattened `metadata.elapsed` list column;
// - no metadata at all when the request excludes it (the SDK sends dataset.exclude[]=metadata): then nothing
//   is read and nothing is reported.
// Passthrough answers are never buffered for this: JSON is searched as it streams by (native byte search, a
// few bytes carried between chunks, the first SCAN_LIMIT bytes only); an Arrow answer of modest size is kept
// and read, under the conversion budget, after it has been sent.
import type { Readable } from 'node:stream';
import { type Data, type DataType, type Table, Type } from 'apache-arrow';
import { readArrow } from '../convert/read-arrow.ts';
import { mediaType } from '../http/headers.ts';

/** JSON bytes searched for the first row's metadata: enough to pass an image tensor echoed in `in`. */
const SCAN_LIMIT = 8 * 1024 * 1024;
/** Arrow answers up to this size are kept to be read once sent. */
const ARROW_KEEP_LIMIT = 4 * 1024 * 1024;
/** Text read after the key for the elapsed list itself; real ones are two or three numbers. */
const VALUE_LIMIT = 1024;
/** Steps summed at most (a pipeline's model steps). */
const MAX_STEPS = 1024;

/** Shared by every scanner: carrying nothing allocates nothing (a scanner runs for nearly every answer). */
const NOTHING = Buffer.alloc(0);

/** Where engine time is in an answer to one request; null when the request excluded it. */
export interface EngineTimeShape {
  separator: string;
  /** `"metadata<separator>elapsed"`, `"metadata"`, `"elapsed"` as JSON text. */
  flatKey: Buffer;
  nestedKey: Buffer;
  elapsedKey: Buffer;
}

function shapeFor(separator: string): EngineTimeShape {
  const json = (text: string) => Buffer.from(JSON.stringify(text));
  return { separator, flatKey: json(`metadata${separator}elapsed`), nestedKey: json('metadata'), elapsedKey: json('elapsed') };
}

const DEFAULT_SHAPE = shapeFor('.');
const shapes = new Map<string, EngineTimeShape>([['.', DEFAULT_SHAPE]]);

/** The shape of engine time in answers to `url` (path and query), from Wallaroo's `dataset.*` parameters. */
export function engineTimeShape(url: string): EngineTimeShape | null {
  const query = url.indexOf('?');
  if (query < 0 || !url.includes('dataset', query)) return DEFAULT_SHAPE;
  const params = new URLSearchParams(url.slice(query + 1));
  const separator = params.get('dataset.separator') ?? '.';
  const names = new Set(['metadata', 'metadata.elapsed', `metadata${separator}elapsed`]);
  const excluded = [...params.getAll('dataset.exclude[]'), ...params.getAll('dataset.exclude')];
  if (excluded.some((name) => names.has(name))) return null;
  const selected = [...params.getAll('dataset[]'), ...params.getAll('dataset')];
  if (selected.length > 0 && !selected.some((name) => name === '*' || names.has(name))) return null;
  let shape = shapes.get(separator);
  if (!shape) {
    shape = shapeFor(separator);
    if (separator.length <= 8 && shapes.size < 16) shapes.set(separator, shape); // the few separators in use
  }
  return shape;
}

/**
 * Engine time longer than this is not a measurement: no call can outlast the longest pipeline timeoutMs the
 * config allows (one hour). Recorded, one absurd value (1e300) would own the histogram's sum for the process's life.
 */
const MAX_ENGINE_SECONDS = 3_600;

/** The total of elapsed nanoseconds as seconds; null unless every step and the total are plausible. */
function plausibleSeconds(totalNanoseconds: number): number | null {
  const seconds = totalNanoseconds / 1e9;
  return Number.isFinite(seconds) && seconds >= 0 && seconds <= MAX_ENGINE_SECONDS ? seconds : null;
}

/** Seconds from the text of an elapsed list (`: [123, 456]` after its key); null when it is not one. */
function secondsFromList(text: string): number | null {
  const match = /^\s*:\s*\[([^\]]*)\]/.exec(text);
  if (!match) return null;
  const items = match[1]!.split(',');
  if (items.length > MAX_STEPS) return null;
  let total = 0;
  for (const item of items) {
    const value = Number(item);
    if (item.trim() === '' || !Number.isFinite(value) || value < 0) return null;
    total += value;
  }
  return plausibleSeconds(total);
}

/**
 * Finds engine time in JSON text fed chunk by chunk, in constant memory: the flattened key, or the nested
 * `"elapsed"` after `"metadata"`, whichever comes first, then its list.
 */
export class JsonEngineTimeScanner {
  private phase: 'metadata' | 'elapsed' | 'value' | 'done' = 'metadata';
  private carry: Buffer = NOTHING;
  private value = '';
  private scanned = 0;
  private readonly carryBytes: number;
  private readonly metadataKeys: readonly Buffer[];
  private readonly elapsedKeys: readonly Buffer[];

  constructor(shape: EngineTimeShape) {
    this.carryBytes = Math.max(shape.flatKey.length, shape.nestedKey.length, shape.elapsedKey.length) - 1;
    this.metadataKeys = [shape.flatKey, shape.nestedKey];
    this.elapsedKeys = [shape.elapsedKey];
  }

  /** Seconds once found; null when there is none to find (or past the scan limit); undefined: feed more. */
  push(chunk: Buffer): number | null | undefined {
    if (this.phase === 'done') return null;
    this.scanned += chunk.length;
    let from = 0;
    while (from <= chunk.length) {
      if (this.phase === 'value') {
        this.value += chunk.toString('latin1', from, Math.min(chunk.length, from + VALUE_LIMIT - this.value.length));
        if (this.value.includes(']')) return this.finish(secondsFromList(this.value));
        if (this.value.length >= VALUE_LIMIT) return this.finish(null);
        break;
      }
      const keys = this.phase === 'metadata' ? this.metadataKeys : this.elapsedKeys;
      const found = this.find(chunk, from, keys);
      if (!found) break;
      this.carry = NOTHING;
      this.phase = this.phase === 'metadata' && found.key === 1 ? 'elapsed' : 'value';
      from = found.end;
    }
    if (this.scanned >= SCAN_LIMIT) return this.finish(null);
    return undefined;
  }

  private finish(seconds: number | null): number | null {
    this.phase = 'done';
    this.carry = NOTHING;
    return seconds;
  }

  /** The earliest of `keys` in the stream from `chunk[from]` on (keys may straddle chunks): its index and end. */
  private find(chunk: Buffer, from: number, keys: readonly Buffer[]): { key: number; end: number } | null {
    let key = -1;
    let start = Number.POSITIVE_INFINITY;
    let end = 0;
    if (this.carry.length > 0) {
      // A match that starts in the carried tail of the previous chunk and ends in this one comes first.
      const joined = Buffer.concat([this.carry, chunk.subarray(from, from + this.carryBytes)]);
      for (let k = 0; k < keys.length; k++) {
        const at = joined.indexOf(keys[k]!);
        if (at >= 0 && at < this.carry.length && at < start) {
          key = k;
          start = at;
          end = from + at + keys[k]!.length - this.carry.length;
        }
      }
    }
    if (key < 0) {
      for (let k = 0; k < keys.length; k++) {
        const at = chunk.indexOf(keys[k]!, from);
        if (at >= 0 && at < start) {
          key = k;
          start = at;
          end = at + keys[k]!.length;
        }
      }
    }
    if (key >= 0) return { key, end };
    const tail = chunk.subarray(Math.max(from, chunk.length - this.carryBytes));
    this.carry = Buffer.concat([this.carry, tail]).subarray(-this.carryBytes);
    return null;
  }
}

/** The first row's value at `index` of a list<number> column, in seconds; null when absent or not a list. */
function secondsFromListData(data: Data, index: number): number | null {
  const type = data.type as DataType;
  if ((type.typeId !== Type.List && type.typeId !== Type.LargeList) || data.length <= index || !data.getValid(index)) return null;
  const child = data.children[0];
  const offsets = data.valueOffsets as ArrayLike<number | bigint>;
  const start = Number(offsets[index]);
  const end = Number(offsets[index + 1]);
  const childType = child?.type as DataType | undefined;
  if (!child || (childType?.typeId !== Type.Int && childType?.typeId !== Type.Float) || end - start > MAX_STEPS) return null;
  const values = child.values as ArrayLike<number | bigint>;
  let total = 0;
  for (let i = start; i < end; i++) {
    const value = Number(values[i]);
    if (!(value >= 0)) return null; // negative or NaN
    total += value;
  }
  return plausibleSeconds(total);
}

/** Seconds from the first row's metadata.elapsed of a Wallaroo Arrow answer (nested or flattened), or null. */
export function elapsedFromTable(table: Table, shape: EngineTimeShape = DEFAULT_SHAPE): number | null {
  const batch = table.batches.find((candidate) => candidate.numRows > 0);
  if (!batch) return null;
  const fields = table.schema.fields;
  const flat = fields.findIndex((field) => field.name === `metadata${shape.separator}elapsed` || field.name === 'metadata.elapsed');
  if (flat >= 0) return secondsFromListData(batch.data.children[flat]!, 0);
  const nested = fields.findIndex((field) => field.name === 'metadata');
  const metadata = nested >= 0 ? batch.data.children[nested] : undefined;
  if (!metadata || (metadata.type as DataType).typeId !== Type.Struct || !metadata.getValid(0)) return null;
  const elapsed = (metadata.type as DataType).children.findIndex((field) => field.name === 'elapsed');
  return elapsed >= 0 ? secondsFromListData(metadata.children[elapsed]!, 0) : null;
}

function isArrow(type: string): boolean {
  return type === 'application/vnd.apache.arrow.file' || type === 'application/vnd.apache.arrow.stream';
}

/** Seconds from a whole Wallaroo answer (pandas-records JSON or Arrow) to `url`, or null. */
export function elapsedFromAnswer(answer: Buffer, contentType: string | undefined, url = ''): number | null {
  const shape = engineTimeShape(url);
  if (!shape) return null;
  const type = mediaType(contentType);
  if (type === 'application/json') return new JsonEngineTimeScanner(shape).push(answer.subarray(0, SCAN_LIMIT)) ?? null;
  if (isArrow(type) && answer.length <= ARROW_KEEP_LIMIT) return elapsedFromTable(readArrow(answer), shape);
  return null;
}

/**
 * Watches a passthrough answer to `url` as it streams to the caller (an extra 'data' listener: no copy, no extra
 * stream on the hot path) and reports engine seconds once found.
 */
export function watchEngineElapsed(body: Readable, contentType: string | undefined, onElapsed: (seconds: number) => void, url = ''): void {
  const shape = engineTimeShape(url);
  if (!shape) return;
  const type = mediaType(contentType);
  if (type === 'application/json') {
    const scanner = new JsonEngineTimeScanner(shape);
    const onData = (chunk: Buffer) => {
      const seconds = scanner.push(chunk);
      if (seconds === undefined) return;
      body.off('data', onData);
      if (seconds !== null) onElapsed(seconds);
    };
    body.on('data', onData);
  } else if (isArrow(type)) {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > ARROW_KEEP_LIMIT) {
        body.off('data', onData);
        chunks.length = 0;
      } else {
        chunks.push(chunk);
      }
    };
    body.on('data', onData);
    body.once('end', () => {
      if (size === 0 || size > ARROW_KEEP_LIMIT) return;
      try {
        const seconds = elapsedFromTable(readArrow(Buffer.concat(chunks, size)), shape);
        if (seconds !== null) onElapsed(seconds);
      } catch {
        // not a readable Wallaroo answer: nothing to report
      }
    });
  }
}
