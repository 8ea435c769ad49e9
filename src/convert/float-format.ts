// Floats as JSON text: float32 in shortest round-trip form for its own width (the shortest decimal that reads
// back as the same float32, what numpy's repr prints), float64 as JavaScript prints it. Digits are written
// straight into a byte array, so the Arrow -> JSON hot loop builds no strings.

const POW10 = Float64Array.from({ length: 23 }, (_, i) => 10 ** i); // exact powers of ten up to 1e22
// Reading a double's binary exponent without Math.log10.
const bitsOfDouble = new Float64Array(1);
const wordsOfDouble = new Uint32Array(bitsOfDouble.buffer);
const HIGH_WORD = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1 ? 1 : 0;

/** Bytes a float32 can take as text: sign, nine digits, point, exponent, with room to spare. */
export const MAX_FLOAT32_TEXT_BYTES = 32;

// The shortest float32 decimal, as significand × 10^power; module-level so the hot loop allocates nothing.
let shortestSignificand = 0;
let shortestPower = 0;

/**
 * Finds the shortest decimal that reads back as the same float32, leaving it in shortestSignificand and
 * shortestPower; false where only the slow exact path applies (subnormals, huge values). Round-tripping is
 * monotone in the digit count (if d digits round-trip, d+1 do), so the search starts at 7, where most float32s
 * land, and steps toward the answer: about two probes a value.
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

function writeAscii(out: Uint8Array, at: number, text: string): number {
  for (let i = 0; i < text.length; i++) out[at++] = text.charCodeAt(i);
  return at;
}

/**
 * Writes a float32 as JSON text into `out` at `at` and returns the position after it. The caller guarantees
 * MAX_FLOAT32_TEXT_BYTES of room. NaN and the infinities, which JSON lacks, are written as null.
 */
export function writeFloat32(out: Uint8Array, at: number, value: number): number {
  if (Number.isNaN(value) || value === Infinity || value === -Infinity) return writeAscii(out, at, 'null');
  if (value === 0) {
    out[at] = 48;
    return at + 1;
  }
  const abs = value < 0 ? -value : value;
  if (!shortestFloat32(abs)) return writeAscii(out, at, formatFloat32Slow(value, abs));
  let significand = shortestSignificand;
  let k = 1; // digit count; float32 significands have at most 9
  while (k < 10 && significand >= POW10[k]!) k++;
  const n = k + shortestPower; // where the decimal point goes, counted from the first digit
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
    return at + k + 1;
  }
  if (k <= n && n <= 21) {
    for (let last = at + k - 1; last >= at; last--) {
      const next = (significand / 10) | 0;
      out[last] = 48 + significand - next * 10;
      significand = next;
    }
    at += k;
    for (let i = k; i < n; i++) out[at++] = 48;
    return at;
  }
  if (-6 < n && n <= 0) {
    out[at++] = 48;
    out[at++] = 46;
    for (let i = 0; i < -n; i++) out[at++] = 48;
    for (let last = at + k - 1; last >= at; last--) {
      const next = (significand / 10) | 0;
      out[last] = 48 + significand - next * 10;
      significand = next;
    }
    return at + k;
  }
  const digits = String(significand);
  out[at++] = digits.charCodeAt(0);
  if (k > 1) {
    out[at++] = 46;
    for (let i = 1; i < k; i++) out[at++] = digits.charCodeAt(i);
  }
  out[at++] = 101;
  const e = n - 1;
  out[at++] = e < 0 ? 45 : 43;
  return writeAscii(out, at, String(Math.abs(e)));
}

const scratch = Buffer.allocUnsafe(MAX_FLOAT32_TEXT_BYTES);

/**
 * Shortest decimal that reads back as the same float32; 'null' for NaN and the infinities, which JSON lacks.
 * The text follows ECMAScript's Number::toString layout, so it is what JSON.stringify prints for that decimal.
 */
export function formatFloat32(value: number): string {
  return scratch.toString('latin1', 0, writeFloat32(scratch, 0, value));
}

export function formatFloat64(value: number): string {
  return Number.isNaN(value) || value === Infinity || value === -Infinity ? 'null' : String(value);
}
