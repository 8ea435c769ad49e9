import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Dictionary, Field, Float32, Int32, Schema, Utf8 } from 'apache-arrow';
import fc from 'fast-check';
import { linearSchemaAssign, quadraticSchemaAssign } from '../../src/convert/linear-schema-assign.ts';

// apache-arrow's Schema.assign is replaced by a linear one (it is quadratic in the column count, and every
// RecordBatch constructor calls it). The replacement must give apache-arrow's own result, field for field.

const TYPES = [() => new Float32(), () => new Int32(), () => new Utf8()];

function describe(schema: Schema): unknown {
  return {
    fields: schema.fields.map((f) => ({ name: f.name, type: String(f.type), nullable: f.nullable, metadata: [...f.metadata] })),
    metadata: [...schema.metadata],
    dictionaries: [...schema.dictionaries].map(([id, type]) => [id, String(type)]),
  };
}

const field = fc.record({
  name: fc.constantFrom('a', 'b', 'c', 'tensor', 'out'), // few names: duplicates on both sides
  type: fc.integer({ min: 0, max: TYPES.length - 1 }),
  nullable: fc.boolean(),
  metadata: fc.array(fc.tuple(fc.constantFrom('k', 'l'), fc.string({ maxLength: 3 })), { maxLength: 2 }),
}).map(({ name, type, nullable, metadata }) => new Field(name, TYPES[type]!(), nullable, new Map(metadata)));
const fields = fc.array(field, { maxLength: 8 });
const metadata = fc.array(fc.tuple(fc.constantFrom('x', 'y'), fc.string({ maxLength: 3 })), { maxLength: 2 }).map((entries) => new Map(entries));

test('the linear Schema.assign gives apache-arrow\'s result for schemas, field arrays and fields, duplicates included', () => {
  fc.assert(
    fc.property(fields, metadata, fields, metadata, fc.integer({ min: 0, max: 2 }), (mine, myMetadata, theirs, theirMetadata, form) => {
      const schema = new Schema(mine, myMetadata);
      const args = form === 0 ? [new Schema(theirs, theirMetadata)] : form === 1 ? [theirs] : theirs;
      assert.deepEqual(describe(linearSchemaAssign.apply(schema, args)), describe(quadraticSchemaAssign.apply(schema, args)));
    }),
    { numRuns: 500 },
  );
});

test('dictionary fields are carried into the merged schema as apache-arrow carries them', () => {
  const labels = new Field('label', new Dictionary(new Utf8(), new Int32(), 7), true);
  const codes = new Field('code', new Dictionary(new Utf8(), new Int32(), 8), true);
  const schema = new Schema([labels, new Field('x', new Float32())]);
  for (const args of [[new Schema([codes])], [[codes, labels]], [labels]]) {
    assert.deepEqual(describe(linearSchemaAssign.apply(schema, args)), describe(quadraticSchemaAssign.apply(schema, args)));
  }
  assert.equal(Schema.prototype.assign, linearSchemaAssign, 'installed on apache-arrow\'s Schema');
});
