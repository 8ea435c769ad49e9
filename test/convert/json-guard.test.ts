import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { DEFAULT_CONVERSION_LIMITS } from '../../src/convert/budget.ts';
import { checkJsonShape, parseJson } from '../../src/convert/json-guard.ts';

// The guard in front of JSON.parse: nesting, the number of arrays and objects, and keys per object, read from
// the text's structure alone, exactly as JSON.parse would see it.

function depthOf(value: unknown): number {
  if (Array.isArray(value)) return 1 + Math.max(0, ...value.map(depthOf));
  if (value !== null && typeof value === 'object') return 1 + Math.max(0, ...Object.values(value).map(depthOf));
  return 0;
}

function containersOf(value: unknown): number {
  if (Array.isArray(value)) return 1 + value.reduce((sum: number, v) => sum + containersOf(v), 0);
  if (value !== null && typeof value === 'object') return 1 + Object.values(value).reduce((sum: number, v) => sum + containersOf(v), 0);
  return 0;
}

function widestObjectOf(value: unknown): number {
  if (Array.isArray(value)) return Math.max(0, ...value.map(widestObjectOf));
  if (value !== null && typeof value === 'object') return Math.max(Object.keys(value).length, ...Object.values(value).map(widestObjectOf));
  return 0;
}

const limits = (overrides: Partial<typeof DEFAULT_CONVERSION_LIMITS>) => ({ ...DEFAULT_CONVERSION_LIMITS, ...overrides });

test('for any JSON, the shape check measures what JSON.parse builds: depth, arrays and objects, keys per object', () => {
  // Keys and strings full of brackets, colons, quotes and backslashes: text, not structure.
  const tricky = fc.string({ unit: fc.constantFrom('[', ']', '{', '}', ':', '"', '\\', ',', 'a', ' ', '\u00e9') });
  const value = fc.letrec((tie) => ({
    json: fc.oneof({ depthSize: 'small' }, tricky, fc.double({ noNaN: true, noDefaultInfinity: true }), fc.boolean(), fc.constant(null), tie('array'), tie('object')),
    array: fc.array(tie('json'), { maxLength: 5 }),
    object: fc.dictionary(tricky, tie('json'), { maxKeys: 5 }),
  })).json;
  fc.assert(
    fc.property(value, fc.boolean(), (parsed, pretty) => {
      const text = JSON.stringify(parsed, null, pretty ? 2 : undefined);
      const depth = depthOf(parsed);
      const containers = containersOf(parsed);
      const widest = widestObjectOf(parsed);
      const exact = limits({ maxJsonDepth: Math.max(2, depth), maxJsonContainers: Math.max(1, containers), maxColumns: Math.max(1, widest) });
      checkJsonShape(text, exact); // at its own measure: passes
      assert.deepEqual(parseJson(text, exact), JSON.parse(text));
      if (depth >= 3) assert.throws(() => checkJsonShape(text, { ...exact, maxJsonDepth: depth - 1 }), { code: 'GW_JSON_TOO_DEEP' });
      if (containers >= 2) assert.throws(() => checkJsonShape(text, { ...exact, maxJsonContainers: containers - 1 }), { code: 'GW_BODY_TOO_COMPLEX' });
      if (widest >= 2) assert.throws(() => checkJsonShape(text, { ...exact, maxColumns: widest - 1 }), { code: 'GW_BODY_TOO_COMPLEX' });
    }),
    { numRuns: 500 },
  );
});

test('the refusals name the limit and its config key; malformed text is left to JSON.parse', () => {
  assert.throws(() => parseJson(`${'['.repeat(33)}${']'.repeat(33)}`), {
    code: 'GW_JSON_TOO_DEEP', statusCode: 400, message: 'the JSON nests deeper than 32 levels (conversion.maxJsonDepth)',
  });
  assert.deepEqual(parseJson(`${'['.repeat(32)}${']'.repeat(32)}`), JSON.parse(`${'['.repeat(32)}${']'.repeat(32)}`));
  assert.throws(() => parseJson('[{},{},{}]', limits({ maxJsonContainers: 3 })), {
    code: 'GW_BODY_TOO_COMPLEX', statusCode: 413, message: 'the JSON holds more than 3 arrays and objects (conversion.maxJsonContainers)',
  });
  assert.throws(() => parseJson('[{"a":1,"b":2,"c":3}]', limits({ maxColumns: 2 })), {
    code: 'GW_BODY_TOO_COMPLEX', statusCode: 413, message: 'the JSON has an object of more than 2 keys (conversion.maxColumns)',
  });
  assert.throws(() => parseJson('   '), { code: 'GW_EMPTY_BODY' });
  for (const malformed of ['[1,', ']]]', '{"a":[}', '"unterminated', '[{"a":"\\"}]']) {
    assert.throws(() => parseJson(malformed), { code: 'GW_INVALID_JSON' }, malformed);
  }
});

test('the shape check counts the values (scalars, arrays, objects) and the characters of string values, not keys, for the conversion charge', () => {
  assert.deepEqual(checkJsonShape('[{"a":[1,2,3]},{"b":"xy,z"}]'), { values: 8, stringChars: 4 });
  assert.deepEqual(checkJsonShape('[1,"[,]",{"k:":"v"},[]]'), { values: 7, stringChars: 4 }); // 6, the empty array counted twice
  assert.deepEqual(checkJsonShape('"text"'), { values: 1, stringChars: 4 });
  assert.deepEqual(checkJsonShape(`[${'1,'.repeat(999)}1]`), { values: 1001, stringChars: 0 });
});
