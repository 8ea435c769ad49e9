import assert from 'node:assert/strict';
import { test } from 'node:test';
import { tableFromIPC, Type } from 'apache-arrow';
import { convertBody, parseInputSchema } from '../../src/convert/index.ts';

// A JSON number is a double. Typed as int64 it went into a BigInt64Array, which silently wraps what does not fit:
// 1e19 came back as -8446744073709551616 and 1e300 as 0. Wrong numbers sent to a model are worse than an error.
const json = (value: string) => Buffer.from(`[{"a":${value}}]`);
const roundTrip = (arrow: Buffer) => convertBody(arrow, 'arrow-file', 'json').toString();

test('an integer beyond 2^53 is inferred as float64 and comes back as the same double, never wrapped', () => {
  for (const [value, back] of [['1e19', '10000000000000000000'], ['-1e19', '-10000000000000000000'], ['1e300', '1e+300'], ['18446744073709551616', '18446744073709552000']]) {
    const arrow = convertBody(json(value!), 'json', 'arrow-file');
    assert.equal(tableFromIPC(arrow).schema.fields[0]!.type.typeId, Type.Float, `${value} is float64`);
    assert.equal(roundTrip(arrow), `[{"a":${back}}]`, value);
  }
  const safe = convertBody(json('9007199254740991'), 'json', 'arrow-file');
  assert.equal(tableFromIPC(safe).schema.fields[0]!.type.typeId, Type.Int, 'the largest safe integer is still int64');
  assert.equal(roundTrip(safe), '[{"a":9007199254740991}]');
  // Inside a list (a tensor of integers) alike.
  const list = convertBody(Buffer.from('[{"t":[1,2,1e19]}]'), 'json', 'arrow-file');
  assert.equal(roundTrip(list), '[{"t":[1,2,10000000000000000000]}]');
});

test('a value outside a 64-bit inputSchema column is a GW_SCHEMA_MISMATCH naming row and column, never wrapped', () => {
  const refused: Array<[string, string]> = [
    ['int64', '9223372036854775807'], // as a double this is 2^63: one past the largest int64
    ['int64', '1e19'],
    ['int64', '-1e19'],
    ['uint64', '18446744073709551616'],
    ['uint64', '-1'],
    ['fixed_size_list<int64>[2]', '[1, 1e19]'],
  ];
  for (const [type, value] of refused) {
    assert.throws(() => convertBody(json(value), 'json', 'arrow-file', { schema: parseInputSchema({ a: type }) }), { code: 'GW_SCHEMA_MISMATCH', message: /^row 0, column "a"/ }, `${type} ${value}`);
  }
  const kept: Array<[string, string, string]> = [
    ['int64', '-9223372036854775808', '-9223372036854775808'],
    ['int64', '9223372036854774784', '9223372036854774784'],
    ['uint64', '1e19', '10000000000000000000'],
  ];
  for (const [type, value, back] of kept) {
    assert.equal(roundTrip(convertBody(json(value), 'json', 'arrow-file', { schema: parseInputSchema({ a: type }) })), `[{"a":${back}}]`, `${type} ${value}`);
  }
});
