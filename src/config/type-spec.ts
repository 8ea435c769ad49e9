// The small type language of a pipeline's `inputSchema` (and the convert command's --schema file), written as
// pyarrow prints types: `float32`, `int64`, `string`, `bool`, `timestamp[ms]`, `list<float64>`,
// `fixed_size_list<float32>[29]`, `struct<a: int64, b: list<string>>`. Pure: text in, a type tree out; the
// converter maps the tree onto Arrow types (convert/arrow-types.ts).

export const SCALAR_TYPES = [
  'int8', 'int16', 'int32', 'int64', 'uint8', 'uint16', 'uint32', 'uint64', 'float', 'float32', 'double',
  'float64', 'bool', 'boolean', 'string', 'utf8', 'timestamp[s]', 'timestamp[ms]', 'timestamp[us]', 'timestamp[ns]',
] as const;
export type ScalarTypeName = (typeof SCALAR_TYPES)[number];

export type TypeSpec =
  | { kind: 'scalar'; name: ScalarTypeName }
  | { kind: 'list'; item: TypeSpec }
  | { kind: 'fixed_size_list'; item: TypeSpec; size: number }
  | { kind: 'struct'; fields: Array<{ name: string; type: TypeSpec }> };

const SCALARS: ReadonlySet<string> = new Set(SCALAR_TYPES);
/** Nesting beyond this is refused: no real model input nests deeper, and the reader recurses. */
const MAX_DEPTH = 32;

class TypeSpecReader {
  private position = 0;
  constructor(private readonly text: string) {}

  parse(): TypeSpec {
    const type = this.readType(0);
    this.skipSpace();
    if (this.position !== this.text.length) this.fail('unexpected text');
    return type;
  }

  private fail(what: string): never {
    throw new Error(`cannot read Arrow type "${this.text.slice(0, 200)}": ${what} at position ${this.position}`);
  }

  private skipSpace(): void {
    while (this.text[this.position] === ' ') this.position++;
  }

  private expect(token: string): void {
    this.skipSpace();
    if (!this.text.startsWith(token, this.position)) this.fail(`expected "${token}"`);
    this.position += token.length;
  }

  private readWord(): string {
    this.skipSpace();
    const match = /^[A-Za-z_][A-Za-z0-9_]*(\[[a-z]+\])?/.exec(this.text.slice(this.position, this.position + 256));
    if (!match) this.fail('expected a type name');
    this.position += match[0].length;
    return match[0].toLowerCase();
  }

  private readType(depth: number): TypeSpec {
    if (depth > MAX_DEPTH) this.fail(`nesting deeper than ${MAX_DEPTH}`);
    const word = this.readWord();
    if (word === 'list' || word === 'large_list') {
      this.expect('<');
      const item = this.readType(depth + 1);
      this.expect('>');
      return { kind: 'list', item };
    }
    if (word === 'fixed_size_list') {
      this.expect('<');
      const item = this.readType(depth + 1);
      this.expect('>');
      this.expect('[');
      this.skipSpace();
      const size = /^\d{1,10}/.exec(this.text.slice(this.position));
      if (!size || Number(size[0]) < 1 || Number(size[0]) > 2 ** 31 - 1) this.fail('expected a positive list size');
      this.position += size[0].length;
      this.expect(']');
      return { kind: 'fixed_size_list', item, size: Number(size[0]) };
    }
    if (word === 'struct') {
      this.expect('<');
      const fields: Array<{ name: string; type: TypeSpec }> = [];
      do {
        const name = this.readWord();
        this.expect(':');
        fields.push({ name, type: this.readType(depth + 1) });
        this.skipSpace();
      } while (this.text[this.position] === ',' && ++this.position);
      this.expect('>');
      return { kind: 'struct', fields };
    }
    if (!SCALARS.has(word)) this.fail(`unknown type "${word}"`);
    return { kind: 'scalar', name: word as ScalarTypeName };
  }
}

export function parseTypeSpec(spec: string): TypeSpec {
  return new TypeSpecReader(spec.trim()).parse();
}
