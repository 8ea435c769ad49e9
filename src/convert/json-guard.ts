// The guard in front of every JSON.parse of a whole body. JSON.parse allocates every array and object before
// anything can look at them, and a deep `[[[...]]]` costs far more memory per byte than data does (60 MB of
// brackets took 2.9 GB and 14 s: issue 15, F2). So nesting depth and the number of arrays and objects are
// checked first, by a linear scan of the text's structural characters only: String.indexOf jumps between
// brackets and quotes, so the numbers that make up real tensors are never visited one by one, and the scan
// costs a few percent of the parse it protects. Scalars need no count: each takes at least two bytes of input.
// Keys per object are counted too (colons outside strings): V8 parses an object of 200,000 keys some twenty
// times slower than as many bytes of numbers (issue 15, F4), and no row or request needs more keys than
// conversion.maxColumns. Arrays and objects are also held to a share of the body's size: V8 builds 2,000,000
// `{}` (6 MB) some forty times slower than as many bytes of numbers, and a converter then walks every row. The
// densest honest row, `{"a":1},`, is 8 bytes, so that share is one array or object per 8 bytes (plus a floor for
// small bodies); real Wallaroo data has one per 80 bytes or more.
// Bodies bound for conversion also have their distinct key names counted: every name becomes a column (nested
// fields count), V8 gives each new name a new object shape (3.9M rows of one unique key each, 50 MB, blocked the loop
// 19 s and took 1.1 GB before the column check after JSON.parse refused them), so more than conversion.maxColumns
// names is refused here, never stricter than that later check. OpenAI bodies are not converted and not counted.
import { DEFAULT_CONVERSION_LIMITS } from '../config/types.ts';
import { GatewayError } from '../errors.ts';
import type { ConversionLimits, JsonCounts } from './budget.ts';

export type JsonLimits = Pick<ConversionLimits, 'maxJsonDepth' | 'maxJsonContainers' | 'maxColumns'>;

const decoder = new TextDecoder('utf-8', { fatal: false });

/** Bytes of JSON per array or object allowed: the densest honest row, `{"a":1},`. */
export const JSON_BYTES_PER_CONTAINER = 8;
/** Arrays and objects any body may hold whatever its size. */
export const JSON_CONTAINERS_FLOOR = 64 * 1024;

/** Arrays and objects a JSON text of `length` characters may hold under `maxJsonContainers`. */
export function containersAllowed(length: number, maxJsonContainers: number): number {
  return Math.min(maxJsonContainers, JSON_CONTAINERS_FLOOR + Math.floor(length / JSON_BYTES_PER_CONTAINER));
}

function tooManyContainers(allowed: number, length: number, maxJsonContainers: number): GatewayError {
  const share = allowed < maxJsonContainers
    ? `a ${length}-byte body may hold one per ${JSON_BYTES_PER_CONTAINER} bytes, at most conversion.maxJsonContainers = ${maxJsonContainers}`
    : 'conversion.maxJsonContainers';
  return new GatewayError('GW_BODY_TOO_COMPLEX', `the JSON holds more than ${allowed} arrays and objects (${share})`);
}

/**
 * What checkJsonShape counted on its way, for jsonWorkingBytes (budget.ts): values the text holds (scalars,
 * arrays, objects; an upper bound, an empty array or object counts twice) and characters inside the quotes of
 * strings that are values, not keys (escapes counted as written).
 */
export type JsonShape = JsonCounts;

/** Position of the next `character` at or after `from`, or `past` (one beyond the text) when there is none. */
function next(text: string, character: string, from: number, past: number): number {
  const at = text.indexOf(character, from);
  return at < 0 ? past : at;
}

/** Index of the quote closing the string whose opening quote is at `open`, or -1 when it never closes. */
function closingQuote(text: string, open: number): number {
  let at = text.indexOf('"', open + 1);
  while (at > 0 && text.charCodeAt(at - 1) === 92) {
    let backslashes = 1;
    while (text.charCodeAt(at - 1 - backslashes) === 92) backslashes++;
    if (backslashes % 2 === 0) break; // an escaped backslash, then a real closing quote
    at = text.indexOf('"', at + 1);
  }
  return at;
}

/**
 * Throws GW_JSON_TOO_DEEP when arrays and objects nest deeper than `maxJsonDepth` (the outermost counted), and
 * GW_BODY_TOO_COMPLEX when there are more than `maxJsonContainers` of them (or one per JSON_BYTES_PER_CONTAINER
 * bytes beyond JSON_CONTAINERS_FLOOR), an object has more than `maxColumns` keys, or (`countDistinctKeys`) the
 * text names more than `maxColumns` distinct keys. Malformed text is left to JSON.parse.
 */
export function checkJsonShape(text: string, limits: JsonLimits = DEFAULT_CONVERSION_LIMITS, countDistinctKeys = false): JsonShape {
  const past = text.length;
  let values = 1; // the outermost value; then one per comma and one per array or object (their first item)
  let stringChars = 0; // characters between the quotes of strings that are not keys
  let keyCounted = true; // the last string's characters were taken back from stringChars (it was a key)
  const names = countDistinctKeys ? new Set<string>() : null;
  let stringStart = -1; // the last string's quotes: a colon right after it makes it a key
  let stringEnd = -1;
  let depth = 0;
  let containers = 0;
  const allowedContainers = containersAllowed(past, limits.maxJsonContainers);
  const keys = new Int32Array(limits.maxJsonDepth + 2); // keys so far in the object open at each depth
  let openArray = next(text, '[', 0, past);
  let closeArray = next(text, ']', 0, past);
  let openObject = next(text, '{', 0, past);
  let closeObject = next(text, '}', 0, past);
  let colon = next(text, ':', 0, past);
  let quote = next(text, '"', 0, past);
  let comma = next(text, ',', 0, past);
  for (;;) {
    const at = Math.min(openArray, closeArray, openObject, closeObject, colon, quote, comma);
    if (at >= past) return { values: values + containers, stringChars };
    if (at === comma) {
      // A run of commas between structural characters (a tensor's numbers) is counted in this tight loop.
      const stop = Math.min(openArray, closeArray, openObject, closeObject, colon, quote);
      let following = at;
      do {
        values++;
        following = text.indexOf(',', following + 1);
      } while (following >= 0 && following < stop);
      comma = following < 0 ? past : following;
    } else if (at === quote) {
      const end = closingQuote(text, at);
      if (end < 0) return { values: values + containers, stringChars }; // unterminated: JSON.parse reports it
      stringStart = at;
      stringEnd = end;
      stringChars += end - at - 1;
      keyCounted = false;
      // Brackets and colons inside the string are text, not structure.
      if (openArray < end) openArray = next(text, '[', end, past);
      if (closeArray < end) closeArray = next(text, ']', end, past);
      if (openObject < end) openObject = next(text, '{', end, past);
      if (closeObject < end) closeObject = next(text, '}', end, past);
      if (colon < end) colon = next(text, ':', end, past);
      if (comma < end) comma = next(text, ',', end, past);
      quote = next(text, '"', end + 1, past);
    } else if (at === colon) {
      if (!keyCounted && stringEnd > stringStart) {
        stringChars -= stringEnd - stringStart - 1; // a key: V8 keeps one copy of each name, in the object's shape
        keyCounted = true;
      }
      if (depth > 0 && ++keys[depth]! > limits.maxColumns) {
        throw new GatewayError('GW_BODY_TOO_COMPLEX', `the JSON has an object of more than ${limits.maxColumns} keys (conversion.maxColumns)`);
      }
      if (names && stringEnd > stringStart) {
        names.add(text.slice(stringStart + 1, stringEnd));
        if (names.size > limits.maxColumns) {
          throw new GatewayError('GW_BODY_TOO_COMPLEX', `the JSON names more than ${limits.maxColumns} distinct keys (conversion.maxColumns; nested fields count)`);
        }
      }
      colon = next(text, ':', at + 1, past);
    } else if (at === openArray || at === openObject) {
      if (++depth > limits.maxJsonDepth) {
        throw new GatewayError('GW_JSON_TOO_DEEP', `the JSON nests deeper than ${limits.maxJsonDepth} levels (conversion.maxJsonDepth)`);
      }
      if (++containers > allowedContainers) throw tooManyContainers(allowedContainers, past, limits.maxJsonContainers);
      keys[depth] = 0;
      if (at === openArray) openArray = next(text, '[', at + 1, past);
      else openObject = next(text, '{', at + 1, past);
    } else {
      if (depth > 0) depth--;
      if (at === closeArray) closeArray = next(text, ']', at + 1, past);
      else closeObject = next(text, '}', at + 1, past);
    }
  }
}

/**
 * UTF-8 bytes (or text) -> the parsed value, after checkJsonShape (distinct keys counted when `forConversion`)
 * and `beforeParse` with what it counted (it throws to refuse the body); invalid JSON is GW_INVALID_JSON.
 */
export function parseJson(
  body: string | Uint8Array,
  limits: JsonLimits = DEFAULT_CONVERSION_LIMITS,
  forConversion = false,
  beforeParse?: (shape: JsonShape, text: string) => void,
): unknown {
  const text = typeof body === 'string' ? body : decoder.decode(body);
  if (text.trim() === '') throw new GatewayError('GW_EMPTY_BODY', 'the request body is empty');
  const shape = checkJsonShape(text, limits, forConversion);
  beforeParse?.(shape, text);
  try {
    return JSON.parse(text);
  } catch (error) {
    // The shape check bounds nesting, so this is a syntax error. V8's own text varies by version and quotes the
    // input; only the position it names (when it does) is passed on.
    const position = error instanceof SyntaxError ? /position (\d+)/.exec(error.message)?.[1] : undefined;
    throw new GatewayError('GW_INVALID_JSON', `the body is not valid JSON${position === undefined ? '' : ` (at character ${position})`}`);
  }
}
