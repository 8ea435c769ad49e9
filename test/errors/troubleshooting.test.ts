import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { ERROR_CATALOG } from '../../src/errors.ts';

test('docs/troubleshooting.md has a row for every error code, and names no code that does not exist', () => {
  const doc = readFileSync(new URL('../../docs/troubleshooting.md', import.meta.url), 'utf8');
  const rowCodes = new Set([...doc.matchAll(/^\|[^|]*\| `(GW_[A-Z_]+)` \|/gm)].map((m) => m[1]));
  const missing = Object.keys(ERROR_CATALOG).filter((code) => !rowCodes.has(code));
  assert.deepEqual(missing, [], 'add a symptom -> code -> cause -> fix row for each');
  const known = new Set([...Object.keys(ERROR_CATALOG), 'GW_CONFIG_INVALID']);
  const unknown = [...new Set([...doc.matchAll(/GW_[A-Z_]+/g)].map((m) => m[0]))].filter((code) => !known.has(code));
  assert.deepEqual(unknown, []);
});
