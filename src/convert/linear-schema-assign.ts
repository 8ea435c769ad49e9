// apache-arrow's Schema.assign looks each new field up with findIndex over the current fields: quadratic in the
// column count. Every RecordBatch constructor calls it (ensureSameLengthData), so reading or building a batch
// of 5,000 columns took seconds and 40,000 minutes (issue 15, F4). This replaces it with the same merge done
// through a Map of names, field for field the same result (test/convert/read-arrow.test.ts compares them).
// Loaded once by read-arrow.ts and json-to-arrow.ts, before any batch is built.
import { type Field, Schema } from 'apache-arrow';

type Assign = (this: Schema, ...args: Array<Schema | Field | Field[]>) => Schema;

interface PatchedPrototype {
  assign: Assign;
  __linearAssign?: true;
}

function mergeMaps<K, V>(first: Map<K, V> | null | undefined, second: Map<K, V> | null | undefined): Map<K, V> {
  return new Map([...(first ?? new Map<K, V>()), ...(second ?? new Map<K, V>())]);
}

const prototype = Schema.prototype as unknown as PatchedPrototype;

/** apache-arrow's own assign, kept for the equivalence test. */
export const quadraticSchemaAssign: Assign = prototype.assign;

export const linearSchemaAssign: Assign = function assign(this: Schema, ...args) {
  const [first] = args;
  const other = first instanceof Schema ? first : new Schema((Array.isArray(first) ? first : args) as Field[]);
  const fields = [...this.fields];
  const firstIndexOf = new Map<string, number>();
  fields.forEach((field, i) => {
    if (!firstIndexOf.has(field.name)) firstIndexOf.set(field.name, i);
  });
  const metadata = mergeMaps(mergeMaps(new Map(), this.metadata), other.metadata);
  const added = other.fields.filter((field) => {
    const at = firstIndexOf.get(field.name);
    if (at === undefined) return true;
    fields[at] = field.clone({ metadata: mergeMaps(mergeMaps(new Map(), fields[at]!.metadata), field.metadata) });
    return false;
  });
  // new Schema(added) builds the added fields' dictionary map exactly as assign's generateDictionaryMap does.
  return new Schema([...fields, ...added], metadata, new Map([...this.dictionaries, ...new Schema(added).dictionaries]));
};

if (!prototype.__linearAssign) {
  prototype.assign = linearSchemaAssign;
  prototype.__linearAssign = true;
}
