import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { DEMO_ROW } from '../../src/cli/serve.ts';

/** Wallaroo's own tutorial files, kept in the repository (test/fixtures/wallaroo-samples/MANIFEST.md). */
export const SAMPLES_DIR = fileURLToPath(new URL('../fixtures/wallaroo-samples/', import.meta.url));

export function sample(name: string): Buffer {
  return readFileSync(`${SAMPLES_DIR}${name}`);
}

/** A ccfraud pandas-records body of `rows` rows (each row the demo tensor, slightly shifted). */
export function ccfraudRows(rows = 1): Array<{ tensor: number[] }> {
  return Array.from({ length: rows }, (_, r) => ({ tensor: DEMO_ROW.map((v, i) => v + (r * (i + 1)) / 1000) }));
}

export function ccfraudBody(rows = 1): string {
  return JSON.stringify(ccfraudRows(rows));
}
