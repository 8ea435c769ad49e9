// Budgets on every whole-body parse and conversion (SECURITY.md, "Budgets"). A few bytes of Arrow metadata or
// JSON can describe billions of values (a list of nulls carries no buffers, a dictionary entry is repeated by
// one-byte indices, a null row of a fixed-size list stands for the whole list), so input bytes alone bound
// nothing. Each conversion gets a budget of values and output bytes when its input's size is known, and every
// allocation that a hostile input could inflate is charged to it *before* it is made.
//
// Two bounds apply at once: the configured caps (conversion.*), which keep memory within a small multiple of the
// body limit, and a share proportional to the bytes received, which keeps the work of any body within a small
// multiple of parsing it (honest data stays far inside both).
import { type ConversionLimits, DEFAULT_CONVERSION_LIMITS } from '../config/types.ts';
import { GatewayError } from '../errors.ts';

export type { ConversionLimits } from '../config/types.ts';
export { DEFAULT_CONVERSION_LIMITS } from '../config/types.ts';

/** Values allowed per byte received: Arrow's densest honest encoding is a bitmap, eight values a byte. */
export const ELEMENTS_PER_INPUT_BYTE = 8;
/** Values every body may hold whatever its size (a small body with a short all-null column). */
export const ELEMENTS_FLOOR = 64 * 1024;
/** Output bytes allowed per byte received (float32 Arrow -> JSON writes about 3; booleans up to 48, kept out). */
export const OUTPUT_BYTES_PER_INPUT_BYTE = 16;
/** Output every conversion may write whatever its input's size. */
export const OUTPUT_FLOOR_BYTES = 1024 * 1024;

/**
 * Working memory of a JSON -> Arrow conversion per value the body holds (scalars, arrays and objects), beyond the
 * decoded text and the string values' characters (below). Measured with bench/conversion-memory.ts: peak RSS
 * (resourceUsage().maxRSS) of a fresh process converting a 16 MB and a 32 MB body, minus its RSS before, minus
 * one byte per character of text, divided by the values: `[{"a":[1,1,...]}]` 37-48, the same with 1.5 45-49,
 * rows of 29-float tensors 18-23 (float32 inputSchema 13-15), rows of ten `"feature_i":float` 50-61, nested
 * objects 39-40, short strings 45-54. The highest, 61, rounded up: JSON.parse's values (a heap number is 16
 * bytes, an array slot 8), the column arrays, the Arrow builders and the IPC output, with the heap's slack.
 */
export const JSON_WORKING_BYTES_PER_VALUE = 64;
/**
 * Working memory per character of a JSON string value beyond the text's own (keys are kept once, by V8's object
 * shapes): its copy in the parsed value, its UTF-8 in the Arrow column and in the IPC output, a byte each for
 * Latin-1 text. Measured as above with rows of one 200-character string, after the per-value share: 1.2 to 2.1.
 */
export const JSON_WORKING_BYTES_PER_STRING_CHAR = 3;

/** What json-guard's scan counted: values (scalars, arrays, objects) and the characters of string values. */
export interface JsonCounts {
  values: number;
  stringChars: number;
}

/**
 * Bytes a JSON -> Arrow conversion of a `textLength`-character body holding `counts` will hold at its peak
 * beyond the body's own bytes: the decoded text (one byte a character; the rare two-byte text is covered by the
 * per-value margin), every value, every string value's characters.
 */
export function jsonWorkingBytes(textLength: number, counts: JsonCounts): number {
  return textLength + JSON_WORKING_BYTES_PER_VALUE * counts.values + JSON_WORKING_BYTES_PER_STRING_CHAR * counts.stringChars;
}

/**
 * Charges working memory a conversion is about to hold besides its input: `bytes` is the total so far (a call
 * replaces the previous one, it does not add to it); `what` says what for, for the refusal. Throws to refuse
 * (the gateway's buffer budget: 413 when it can never fit, 503 when it does not fit now).
 */
export type ReserveWorkingMemory = (bytes: number, what: string) => void;

function tooComplex(message: string): GatewayError {
  return new GatewayError('GW_BODY_TOO_COMPLEX', message);
}

/** What one conversion may spend; create one per body, when its size is known. */
export class ConversionBudget {
  /** Values this conversion may hold in all. */
  readonly elements: number;
  /** Bytes this conversion may write. */
  readonly outputBytes: number;
  private spentElements = 0;

  constructor(
    readonly limits: Readonly<ConversionLimits>,
    readonly inputBytes: number,
    /** Charged before the output grows (Arrow -> JSON), when the caller holds a buffer budget. */
    readonly reserve: ReserveWorkingMemory | null = null,
  ) {
    this.elements = Math.min(limits.maxElements, ELEMENTS_FLOOR + ELEMENTS_PER_INPUT_BYTE * inputBytes);
    this.outputBytes = Math.min(limits.maxOutputBytes, OUTPUT_FLOOR_BYTES + OUTPUT_BYTES_PER_INPUT_BYTE * inputBytes);
  }

  /** Charges `count` values about to be allocated for `what`; throws, before the allocation, beyond the budget. */
  spend(count: number, what: string): void {
    if (!this.take(count)) throw this.tooMany(what);
  }

  /**
   * Charges `count` values; false once past the budget, and the caller throws tooMany() naming what it was
   * about to allocate (for hot paths: the name is built only then).
   */
  take(count: number): boolean {
    this.spentElements += count;
    return this.spentElements <= this.elements;
  }

  tooMany(what: string): GatewayError {
    return tooComplex(
      `${what} would take the body past ${this.elements} values (a ${this.inputBytes}-byte body may hold ${ELEMENTS_PER_INPUT_BYTE} per byte, ` +
        `at most conversion.maxElements = ${this.limits.maxElements})`,
    );
  }

  get spent(): number {
    return this.spentElements;
  }

  /** Throws unless `bytes` of output fit the budget. */
  checkOutput(bytes: number, what: string): void {
    if (bytes > this.outputBytes) {
      throw tooComplex(
        `${what} would write more than ${this.outputBytes} bytes (a ${this.inputBytes}-byte body may produce ${OUTPUT_BYTES_PER_INPUT_BYTE} per byte, ` +
          `at most conversion.maxOutputBytes = ${this.limits.maxOutputBytes})`,
      );
    }
  }

  /** Throws when a table has more fields (nested ones counted) than conversion.maxColumns. */
  checkColumns(count: number, what: string): void {
    if (count > this.limits.maxColumns) {
      throw tooComplex(`${what} has more than ${this.limits.maxColumns} columns (conversion.maxColumns; nested fields count)`);
    }
  }
}

/** A budget for `inputBytes` under the configured limits (the defaults when none are given). */
export function budgetFor(
  inputBytes: number,
  limits: Readonly<ConversionLimits> = DEFAULT_CONVERSION_LIMITS,
  reserve: ReserveWorkingMemory | null = null,
): ConversionBudget {
  return new ConversionBudget(limits, inputBytes, reserve);
}
