import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { STATUS_CODES } from 'node:http';
import { test } from 'node:test';
import { ERROR_CATALOG, errorBody, GatewayError } from '../../src/errors.ts';

test('docs/errors.md lists every code with its status, and nothing else', () => {
  const doc = readFileSync(new URL('../../docs/errors.md', import.meta.url), 'utf8');
  const rows = [...doc.matchAll(/^\| `(GW_[A-Z_]+)` \| (\d{3}) \|/gm)].map((m) => [m[1], Number(m[2])]);
  assert.deepEqual(rows, Object.entries(ERROR_CATALOG).map(([code, { statusCode }]) => [code, statusCode]));
});

test('the error body has the spec shape and a stable code per cause', () => {
  const error = new GatewayError('GW_UPSTREAM_TIMEOUT', 'pipeline x: timed out');
  assert.deepEqual(error.toBody(), { statusCode: 504, code: 'GW_UPSTREAM_TIMEOUT', error: 'Gateway Timeout', message: 'pipeline x: timed out' });
  for (const code of Object.keys(ERROR_CATALOG) as Array<keyof typeof ERROR_CATALOG>) {
    const body = errorBody(code);
    // 499 is nginx's "Client Closed Request", which Node's table does not name.
    assert.equal(body.error, STATUS_CODES[body.statusCode] ?? (body.statusCode === 499 ? 'Client Closed Request' : undefined));
    assert.ok(body.message.length > 10);
  }
});
