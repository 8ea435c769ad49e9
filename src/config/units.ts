// Human units used in the config file: sizes ("64MiB") and durations ("1s"). Plain numbers are bytes / ms.

const SIZE_UNITS: Record<string, number> = {
  b: 1, kb: 1e3, mb: 1e6, gb: 1e9, kib: 1024, mib: 1024 ** 2, gib: 1024 ** 3,
};
const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

export const SIZE_PATTERN = '^\\s*\\d+(\\.\\d+)?\\s*([kKmMgG]i?[bB]|[bB])?\\s*$';
export const DURATION_PATTERN = '^\\s*\\d+(\\.\\d+)?\\s*(ms|s|m|h)?\\s*$';

function parseWithUnits(value: number | string, units: Record<string, number>, fallbackUnit: string): number {
  if (typeof value === 'number') return value;
  const match = /^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$/.exec(value);
  if (!match) throw new Error(`not a valid quantity: ${JSON.stringify(value)}`);
  const unit = (match[2] || fallbackUnit).toLowerCase();
  const factor = units[unit];
  if (factor === undefined) throw new Error(`unknown unit ${JSON.stringify(match[2])}`);
  return Math.round(Number(match[1]) * factor);
}

export function parseSize(value: number | string): number {
  return parseWithUnits(value, SIZE_UNITS, 'b');
}

export function parseDurationMs(value: number | string): number {
  return parseWithUnits(value, DURATION_UNITS, 'ms');
}
