import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { arrowToJson, jsonToArrow } from '../../src/convert/index.ts';

// Values whose JSON -> Arrow -> JSON trip is exact: integers within 2^53, doubles, strings, booleans, nulls,
// nested objects and lists of one element type, as pandas-records rows carry them.
const finiteDouble = fc.double({ noNaN: true, noDefaultInfinity: true }).filter((v) => !Object.is(v, -0) && !Number.isInteger(v));
const scalarColumn = fc.oneof(
  fc.constant(fc.integer({ min: -(2 ** 53) + 1, max: 2 ** 53 - 1 })),
  fc.constant(finiteDouble),
  fc.constant(fc.string()),
  fc.constant(fc.boolean()),
);

const columnValues = scalarColumn.chain((values) =>
  fc.oneof(
    fc.constant(values as fc.Arbitrary<unknown>),
    fc.constant(fc.array(values as fc.Arbitrary<unknown>, { maxLength: 5 })),
    fc.constant(fc.record({ x: values as fc.Arbitrary<unknown>, y: fc.option(fc.array(values as fc.Arbitrary<unknown>, { maxLength: 3 }), { nil: null }) })),
  ),
);

test('property: pandas-records JSON -> Arrow -> JSON returns the same rows', () => {
  const table = fc
    .tuple(fc.uniqueArray(fc.string({ minLength: 1, maxLength: 8 }), { minLength: 1, maxLength: 4 }), fc.integer({ min: 1, max: 20 }))
    .chain(([names, rows]) =>
      fc.tuple(...names.map(() => columnValues)).chain((arbitraries) =>
        fc.array(
          fc.tuple(...arbitraries.map((a) => fc.option(a as fc.Arbitrary<unknown>, { nil: null, freq: 8 }))).map((values) =>
            Object.fromEntries(names.map((name, i) => [name, values[i]])),
          ),
          { minLength: rows, maxLength: rows },
        ),
      ),
    );
  fc.assert(
    fc.property(table, (rows) => {
      const text = JSON.stringify(rows);
      const back = JSON.parse(arrowToJson(jsonToArrow(text, 'file')).toString());
      assert.deepEqual(back, JSON.parse(text));
    }),
    { numRuns: 300, interruptAfterTimeLimit: 20_000 },
  );
});
