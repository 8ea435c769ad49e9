import {
  Bool, type DataType, Field, FixedSizeList, Float32, Float64, Int16, Int32, Int64, Int8, List, Struct,
  TimestampMicrosecond, TimestampMillisecond, TimestampNanosecond, TimestampSecond, Uint16, Uint32, Uint64, Uint8,
  Utf8,
} from 'apache-arrow';
import { parseTypeSpec, type ScalarTypeName, type TypeSpec } from '../config/type-spec.ts';

// Maps the config's type language (config/type-spec.ts) onto apache-arrow types.

const SCALARS: Record<ScalarTypeName, () => DataType> = {
  int8: () => new Int8(), int16: () => new Int16(), int32: () => new Int32(), int64: () => new Int64(),
  uint8: () => new Uint8(), uint16: () => new Uint16(), uint32: () => new Uint32(), uint64: () => new Uint64(),
  float: () => new Float32(), float32: () => new Float32(), double: () => new Float64(), float64: () => new Float64(),
  bool: () => new Bool(), boolean: () => new Bool(), string: () => new Utf8(), utf8: () => new Utf8(),
  'timestamp[s]': () => new TimestampSecond(), 'timestamp[ms]': () => new TimestampMillisecond(),
  'timestamp[us]': () => new TimestampMicrosecond(), 'timestamp[ns]': () => new TimestampNanosecond(),
};

const item = (type: DataType) => new Field('item', type, true);

export function arrowTypeOf(spec: TypeSpec): DataType {
  switch (spec.kind) {
    case 'scalar':
      return SCALARS[spec.name]();
    case 'list':
      return new List(item(arrowTypeOf(spec.item)));
    case 'fixed_size_list':
      return new FixedSizeList(spec.size, item(arrowTypeOf(spec.item)));
    case 'struct':
      return new Struct(spec.fields.map((field) => new Field(field.name, arrowTypeOf(field.type), true)));
  }
}

/** Parses a type written as pyarrow prints it (see config/type-spec.ts); throws naming what it could not read. */
export function parseArrowTypeSpec(spec: string): DataType {
  return arrowTypeOf(parseTypeSpec(spec));
}

export function parseInputSchema(schema: Record<string, string> | null | undefined): Map<string, DataType> {
  const types = new Map<string, DataType>();
  for (const [column, spec] of Object.entries(schema ?? {})) types.set(column, parseArrowTypeSpec(spec));
  return types;
}
