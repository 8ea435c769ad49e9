import assert from 'node:assert/strict';
import { test } from 'node:test';
import { interpolateString, interpolateTree } from '../../src/config/interpolate.ts';

test('${VAR} and ${VAR:-default} are substituted from the environment', () => {
  const env = { HOST: 'wallaroo.example.com', EMPTY: '' };
  const missing: string[] = [];
  assert.equal(interpolateString('https://${HOST}/x', env, (v) => missing.push(v)), 'https://wallaroo.example.com/x');
  assert.equal(interpolateString('${PORT:-8080}', env, (v) => missing.push(v)), '8080');
  assert.equal(interpolateString('${EMPTY:-fallback}', env, (v) => missing.push(v)), 'fallback');
  assert.equal(interpolateString('${EMPTY}', env, (v) => missing.push(v)), '');
  assert.equal(interpolateString('literal $${HOST}', env, (v) => missing.push(v)), 'literal ${HOST}');
  assert.deepEqual(missing, []);
});

test('every missing variable is reported with its path, not just the first', () => {
  const { value, missing } = interpolateTree(
    { wallaroo: { url: '${A}', auth: { clientSecret: '${B}' } }, pipelines: [{ name: '${C}' }], ok: '${D:-d}' },
    {},
  );
  assert.deepEqual(missing, [
    { path: 'wallaroo.url', variable: 'A' },
    { path: 'wallaroo.auth.clientSecret', variable: 'B' },
    { path: 'pipelines[0].name', variable: 'C' },
  ]);
  assert.equal((value as { ok: string }).ok, 'd');
});

test('a substituted value is never parsed as YAML structure', () => {
  const { value } = interpolateTree({ secret: '${S}' }, { S: '{a: 1}\nkey: value' });
  assert.deepEqual(value, { secret: '{a: 1}\nkey: value' });
});
