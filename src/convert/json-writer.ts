// Growable byte output for JSON text. The hot path writes ASCII digits straight into a Buffer; growth is
// capped by the conversion's output budget and checked before each allocation, so no input can make it
// allocate more than its budget.
import type { ConversionBudget } from './budget.ts';
import { formatFloat64, MAX_FLOAT32_TEXT_BYTES, writeFloat32 } from './float-format.ts';

export class JsonOutput {
  private buffer: Buffer;
  private position = 0;

  /** `budget` null: no cap beyond the JavaScript engine's (for trusted, small output only). */
  constructor(
    initialBytes: number,
    private readonly budget: ConversionBudget | null = null,
  ) {
    const cap = budget ? Math.max(1, budget.outputBytes) : Infinity;
    const size = Math.max(1, Math.min(initialBytes, cap));
    budget?.reserve?.(size, `the JSON text's first ${size} bytes`);
    this.buffer = Buffer.allocUnsafe(size);
  }

  /** Called before every write: kept this small so it inlines; growing is the rare case. */
  private ensure(extra: number): void {
    if (this.position + extra > this.buffer.length) this.grow(this.position + extra);
  }

  private grow(needed: number): void {
    this.budget?.checkOutput(needed, 'the JSON text');
    let size = this.buffer.length * 2;
    while (size < needed) size *= 2;
    if (this.budget) size = Math.min(size, Math.max(needed, this.budget.outputBytes));
    // While it is copied, the old buffer is held too.
    this.budget?.reserve?.(this.buffer.length + size, `the JSON text growing to ${size} bytes`);
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
    // UTF-8 takes at most three bytes per UTF-16 unit; the exact count only matters when the buffer must grow.
    if (this.position + text.length * 3 > this.buffer.length) this.ensure(Buffer.byteLength(text, 'utf8'));
    this.position += this.buffer.write(text, this.position, 'utf8');
  }

  /** Bytes already rendered as JSON (a dictionary entry written once, repeated per index). */
  bytes(bytes: Uint8Array, start = 0, end = bytes.length): void {
    this.ensure(end - start);
    this.buffer.set(bytes.subarray(start, end), this.position);
    this.position += end - start;
  }

  float32(value: number): void {
    this.ensure(MAX_FLOAT32_TEXT_BYTES);
    this.position = writeFloat32(this.buffer, this.position, value);
  }

  float64(value: number): void {
    this.ascii(formatFloat64(value));
  }

  get length(): number {
    return this.position;
  }

  result(): Buffer {
    return this.buffer.subarray(0, this.position);
  }
}
