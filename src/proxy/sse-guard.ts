// Bounds on Server-Sent Events relayed from Wallaroo, checked as the bytes pass (nothing is held back to look for
// a line end): one event, all its lines together, may carry at most `limit` bytes, and each NUL byte becomes U+FFFD
// (a C client would cut a field at a NUL; dropping it instead could join the bytes around it into a character
// Wallaroo never sent, as E2 00 82 AC would become the euro sign: Unicode's own advice, UTR #36, is to replace).

const LF = 0x0a;
const CR = 0x0d;
const NUL = 0x00;
const REPLACEMENT_CHARACTER = Buffer.from('\uFFFD', 'utf8');

/** The chunk with each NUL byte replaced by U+FFFD (the same buffer when it has none, the common case). */
export function withNulReplaced(chunk: Buffer): Buffer {
  if (!chunk.includes(NUL)) return chunk;
  const parts: Buffer[] = [];
  let start = 0;
  for (let at = chunk.indexOf(NUL); at >= 0; at = chunk.indexOf(NUL, start)) {
    parts.push(chunk.subarray(start, at), REPLACEMENT_CHARACTER);
    start = at + 1;
  }
  parts.push(chunk.subarray(start));
  return Buffer.concat(parts);
}

/** What `SseEventBound.feed` answers when the current event has grown past the limit. */
export const EVENT_TOO_LARGE = -2;

/**
 * Follows the event framing across chunks: lines end at CRLF, LF or CR (the SSE grammar) and a blank line ends
 * the event. `feed` answers the offset just past the last event that ends in the chunk (-1: none ends there), or
 * EVENT_TOO_LARGE once the unfinished event holds more than `limit` bytes, so the relay can pass on whole events
 * only and hold at most `limit` bytes of an unfinished one.
 */
export class SseEventBound {
  private eventBytes = 0;
  private lineEmpty = true;
  private afterCr = false;
  /** After EVENT_TOO_LARGE: the offset just past the last event that ended in that chunk before it (-1: none). */
  endBeforeOverflow = -1;

  constructor(readonly limit: number) {}

  feed(chunk: Buffer): number {
    let eventBytes = this.eventBytes;
    let lastEnd = -1;
    for (let i = 0; i < chunk.length; i++) {
      const byte = chunk[i]!;
      if (byte === LF && this.afterCr) {
        this.afterCr = false; // the second half of a CRLF: goes with the line end before it
        if (eventBytes === 0) lastEnd = i + 1;
        else eventBytes++;
        continue;
      }
      this.afterCr = byte === CR;
      if ((byte === LF || byte === CR) && this.lineEmpty) {
        eventBytes = 0; // a blank line: the event is over (or a stray one between events)
        lastEnd = i + 1;
        continue;
      }
      this.lineEmpty = byte === LF || byte === CR;
      if (++eventBytes > this.limit) {
        this.endBeforeOverflow = lastEnd;
        return EVENT_TOO_LARGE;
      }
    }
    this.eventBytes = eventBytes;
    return lastEnd;
  }
}
