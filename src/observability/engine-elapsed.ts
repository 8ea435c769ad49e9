import type { Readable } from 'node:stream';
import { type Table, Type } from 'apache-arrow';
import { readArrow } from '../convert/arrow-to-json.ts';
import { mediaType } from '../http/headers.ts';

/**
 * Wallaroo reports engine time per answer row in `metadata.elapsed` (a list of nanosecond durations, one per
 * pipeline step). The gateway reads the first row's without buffering a passthrough answer: a JSON answer is
 * scanned as it streams by (only its first 64 KiB), an Arrow answer of modest size is kept and read after it
 * has been sent. Operators then see engine time beside upstream and gateway time.
 */
const ELAPSED_KEY = '"elapsed":[';
const JSON_SCAN_LIMIT = 64 * 1024;
const ARROW_KEEP_LIMIT = 4 * 1024 * 1024;

/** Seconds from the first `"elapsed":[...]` in JSON text, or null. */
export function elapsedFromJsonText(text: string): number | null {
  const start = text.indexOf(ELAPSED_KEY);
  if (start < 0) return null;
  const end = text.indexOf(']', start);
  if (end < 0) return null;
  const numbers = text.slice(start + ELAPSED_KEY.length, end).split(',');
  let total = 0;
  for (const item of numbers) {
    const value = Number(item);
    if (!Number.isFinite(value) || item.trim() === '') return null;
    total += value;
  }
  return total / 1e9;
}

/** Seconds from the first row's metadata.elapsed of a Wallaroo Arrow answer, or null. */
export function elapsedFromTable(table: Table): number | null {
  const metadata = table.getChild('metadata');
  if (!metadata || metadata.type.typeId !== Type.Struct || table.numRows === 0) return null;
  const row = metadata.get(0) as { toJSON(): Record<string, unknown> } | null;
  const elapsed = row?.toJSON().elapsed as { toArray?: () => ArrayLike<number | bigint> } | null | undefined;
  if (!elapsed || typeof elapsed.toArray !== 'function') return null;
  let total = 0;
  for (const value of Array.from(elapsed.toArray())) total += Number(value);
  return total / 1e9;
}

/** Seconds from a whole Wallaroo answer (pandas-records JSON or an Arrow file), or null. */
export function elapsedFromAnswer(answer: Buffer, contentType: string | undefined): number | null {
  const type = mediaType(contentType);
  if (type === 'application/json') return elapsedFromJsonText(answer.subarray(0, JSON_SCAN_LIMIT).toString('utf8'));
  if (type === 'application/vnd.apache.arrow.file') return elapsedFromTable(readArrow(answer));
  return null;
}

/**
 * Watches a passthrough answer as it streams to the caller (an extra 'data' listener: no copy, no extra
 * stream on the hot path) and reports engine seconds once found.
 */
export function watchEngineElapsed(body: Readable, contentType: string | undefined, onElapsed: (seconds: number) => void): void {
  const type = mediaType(contentType);
  if (type === 'application/json') {
    let seen = '';
    const onData = (chunk: Buffer) => {
      seen += chunk.toString('utf8');
      const seconds = elapsedFromJsonText(seen);
      if (seconds !== null) {
        body.off('data', onData);
        onElapsed(seconds);
      } else if (seen.length > JSON_SCAN_LIMIT) {
        body.off('data', onData);
      } else {
        seen = seen.slice(-JSON_SCAN_LIMIT); // keep a window: the key may straddle chunks
      }
    };
    body.on('data', onData);
  } else if (type === 'application/vnd.apache.arrow.file') {
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
        const seconds = elapsedFromTable(readArrow(Buffer.concat(chunks, size)));
        if (seconds !== null) onElapsed(seconds);
      } catch {
        // not a readable Wallaroo answer: nothing to report
      }
    });
  }
}
