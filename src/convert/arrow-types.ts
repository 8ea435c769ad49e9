import {
  Bool, type DataType, Field, FixedSizeList, Float32, Float64, Int16, Int32, Int64, Int8, List, Struct,
  TimestampMicrosecond, TimestampMillisecond, TimestampNanosecond, TimestampSecond, Uint16, Uint32, Uint64, Uint8,
  Utf8,
} from 'apache-arrow';

/**
 * Parses the small type language of a pipeline's `inputSchema`, written as pyarrow prints types:
 * `float32`, `int64`, `string`, `bool`, `timestamp[ms]`, `list<float64>`, `fixed_size_list<float32>[29]`,
 * `struct<a: int64, b: list<string>>`. Pure; throws with a message naming what it could not read.
 */
const SCALARS: Record<string, () => DataType> = {
  int8: () => new Int8(), int16: () => new Int16(), int32: () => new Int32(), int64: () => new Int64(),
  uint8: () => new Uint8(), uint16: () => new Uint16(), uint32: () => new Uint32(), uint64: () => new Uint64(),
  float: () => new Float32(), float32: () => new Float32(), double: () => new Float64(), float64: () => new Float64(),
  bool: () => new Bool(), boolean: () => new Bool(), string: () => new Utf8(), utf8: () => new Utf8(),
  'timestamp[s]': () => new TimestampSecond(), 'timestamp[ms]': () => new TimestampMillisecond(),
  'timestamp[us]': () => new TimestampMicrosecond(), 'timestamp[ns]': () => new TimestampNanosecond(),
};

const item = (type: DataType) => new Field('item', type, true);

class TypeSpecReader {
  private position = 0;
  constructor(private readonly text: string) {}

  parse(): DataType {
    const type = this.readType();
    this.skipSpace();
    if (this.position !== this.text.length) this.fail('unexpected text');
    return type;
  }

  private fail(what: string): never {
    throw new Error(`cannot read Arrow type "${this.text}": ${what} at position ${this.position}`);
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
    const match = /^[A-Za-z_][A-Za-z0-9_]*(\[[a-z]+\])?/.exec(this.text.slice(this.position));
    if (!match) this.fail('expected a type name');
    this.position += match[0].length;
    return match[0].toLowerCase();
  }

  private readType(): DataType {
    const word = this.readWord();
    if (word === 'list' || word === 'large_list') {
      this.expect('<');
      const child = this.readType();
      this.expect('>');
      return new List(item(child));
    }
    if (word === 'fixed_size_list') {
      this.expect('<');
      const child = this.readType();
      this.expect('>');
      this.expect('[');
      this.skipSpace();
      const size = /^\d+/.exec(this.text.slice(this.position));
      if (!size || Number(size[0]) < 1) this.fail('expected a positive list size');
      this.position += size[0].length;
      this.expect(']');
      return new FixedSizeList(Number(size[0]), item(child));
    }
    if (word === 'struct') {
      this.expect('<');
      const fields: Field[] = [];
      do {
        const name = this.readWord();
        this.expect(':');
        fields.push(new Field(name, this.readType(), true));
        this.skipSpace();
      } while (this.text[this.position] === ',' && ++this.position);
      this.expect('>');
      return new Struct(fields);
    }
    const scalar = SCALARS[word];
    if (!scalar) this.fail(`unknown type "${word}"`);
    return scalar();
  }
}

export function parseArrowTypeSpec(spec: string): DataType {
  return new TypeSpecReader(spec.trim()).parse();
}

export function parseInputSchema(schema: Record<string, string> | null | undefined): Map<string, DataType> {
  const types = new Map<string, DataType>();
  for (const [column, spec] of Object.entries(schema ?? {})) types.set(column, parseArrowTypeSpec(spec));
  return types;
}
