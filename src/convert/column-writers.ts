// Arrow columns -> pandas-records JSON values, as pandas `to_json(orient="records")` writes Wallaroo's answers:
// structs as objects, lists as arrays, timestamps as epoch milliseconds, NaN/null as null, int64 with all its
// digits, float32 in its shortest round-trip form. Each column gets a writer compiled once from its type, which
// reads the typed arrays directly. Input must have passed read-arrow.ts (lengths, offsets and dictionary
// indices checked, values counted against the budget); the output is capped by JsonOutput.
import { type Data, type DataType, makeVector, Type, type Vector } from 'apache-arrow';
import { formatFloat64 } from './float-format.ts';
import { JsonOutput } from './json-writer.ts';
import type { ConversionBudget } from './budget.ts';

/** Writes the value at `index` of a column. */
export type Writer = (index: number) => void;

const NULL = 'null';
const COMMA = 44;
const MS_PER_UNIT_BIG = [1000n, 1n, 1n, 1n]; // TimeUnit SECOND, MILLISECOND, MICROSECOND, NANOSECOND
const UNIT_PER_MS_BIG = [1n, 1n, 1000n, 1_000_000n];

function genericJson(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  if (typeof value === 'bigint') return value.toString();
  if (typeof value === 'number') return formatFloat64(value);
  if (typeof value === 'string' || typeof value === 'boolean') return JSON.stringify(value);
  if (value instanceof Date) return String(value.getTime());
  if (value instanceof Uint8Array) return JSON.stringify(Buffer.from(value).toString('base64'));
  if (ArrayBuffer.isView(value) || Array.isArray(value) || (typeof value === 'object' && Symbol.iterator in value && !(value instanceof Map))) {
    return `[${Array.from(value as Iterable<unknown>, genericJson).join(',')}]`;
  }
  if (value instanceof Map) {
    return `{${Array.from(value, ([k, v]) => `${JSON.stringify(String(k))}:${genericJson(v)}`).join(',')}}`;
  }
  const plain = typeof (value as { toJSON?: () => unknown }).toJSON === 'function' ? (value as { toJSON: () => unknown }).toJSON() : value;
  return `{${Object.entries(plain as Record<string, unknown>).map(([k, v]) => `${JSON.stringify(k)}:${genericJson(v)}`).join(',')}}`;
}

function withNulls(data: Data, out: JsonOutput, write: Writer): Writer {
  if (data.nullCount === 0 || !data.nullBitmap) return write;
  return (index) => (data.getValid(index) ? write(index) : out.ascii(NULL));
}

/**
 * Dictionary-encoded columns: every entry is rendered once, then copied per index, so a long entry repeated by
 * one-byte indices costs a copy (charged to the output budget), not a re-encoding each time.
 */
function dictionaryWriter(data: Data, out: JsonOutput, budget: ConversionBudget | null): Writer {
  const dictionary = data.dictionary as Vector | undefined;
  const entries = new JsonOutput(1024, budget);
  const starts = new Float64Array((dictionary?.length ?? 0) + 1);
  let entry = 0;
  for (const chunk of dictionary?.data ?? []) {
    const write = compileWriter(chunk, entries, budget);
    for (let i = 0; i < chunk.length; i++) {
      starts[entry++] = entries.length;
      write(i);
    }
  }
  starts[entry] = entries.length;
  const rendered = entries.result();
  const indices = data.values as ArrayLike<number | bigint>;
  if (budget) {
    // What the column will write is known now: refuse before writing (and touching) any of it.
    let total = out.length;
    const hasNulls = data.nullCount > 0;
    for (let i = 0; i < data.length; i++) {
      const at = Number(indices[i]);
      total += hasNulls && !data.getValid(i) ? 5 : starts[at + 1]! - starts[at]! + 1;
    }
    budget.checkOutput(total, 'the JSON text');
  }
  return withNulls(data, out, (i) => {
    const at = Number(indices[i]); // checked against the dictionary's length by read-arrow.ts
    out.bytes(rendered, starts[at]!, starts[at + 1]!);
  });
}

/** A writer for one column, compiled from its type; `budget` caps what dictionary entries render to. */
export function compileWriter(data: Data, out: JsonOutput, budget: ConversionBudget | null = null): Writer {
  const type = data.type as DataType;
  switch (type.typeId) {
    case Type.Null:
      return () => out.ascii(NULL);
    case Type.Bool: {
      const bits = data.values as Uint8Array;
      const offset = data.offset;
      return withNulls(data, out, (i) => out.ascii((bits[(offset + i) >> 3]! >> ((offset + i) & 7)) & 1 ? 'true' : 'false'));
    }
    case Type.Int: {
      const values = data.values as ArrayLike<number | bigint>;
      return withNulls(data, out, (i) => out.ascii(String(values[i])));
    }
    case Type.Float: {
      const precision = (type as unknown as { precision: number }).precision;
      if (precision === 0) break; // float16: the generic path decodes it
      const values = data.values as Float32Array | Float64Array;
      return withNulls(data, out, precision === 1 ? (i) => out.float32(values[i]!) : (i) => out.float64(values[i]!));
    }
    case Type.Timestamp: {
      const values = data.values as BigInt64Array;
      const unit = (type as unknown as { unit: number }).unit;
      const multiply = MS_PER_UNIT_BIG[unit]!;
      const divide = UNIT_PER_MS_BIG[unit]!;
      return withNulls(data, out, (i) => out.ascii(String((values[i]! * multiply) / divide)));
    }
    case Type.Utf8:
    case Type.LargeUtf8: {
      const bytes = data.values as Uint8Array;
      const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      const offsets = data.valueOffsets as Int32Array | BigInt64Array;
      return withNulls(data, out, (i) => out.text(JSON.stringify(text.toString('utf8', Number(offsets[i]), Number(offsets[i + 1])))));
    }
    case Type.Dictionary:
      return dictionaryWriter(data, out, budget);
    case Type.FixedSizeList: {
      const size = (type as unknown as { listSize: number }).listSize;
      const child = data.children[0]!;
      const childType = child.type as DataType;
      const precision = (childType as unknown as { precision?: number }).precision;
      if (childType.typeId === Type.Float && precision !== 0 && (child.nullCount === 0 || !child.nullBitmap)) {
        // The hot path of every Wallaroo tensor: typed array in, digits out, no intermediate strings.
        const values = child.values as Float32Array | Float64Array;
        return withNulls(data, out, (i) => {
          const base = i * size;
          out.byte(91);
          for (let j = 0; j < size; j++) {
            if (j !== 0) out.byte(COMMA);
            if (precision === 1) out.float32(values[base + j]!);
            else out.float64(values[base + j]!);
          }
          out.byte(93);
        });
      }
      const element = compileWriter(child, out, budget);
      return withNulls(data, out, (i) => {
        out.byte(91);
        for (let j = 0; j < size; j++) {
          if (j !== 0) out.byte(COMMA);
          element(i * size + j);
        }
        out.byte(93);
      });
    }
    case Type.List:
    case Type.LargeList: {
      const offsets = data.valueOffsets as Int32Array | BigInt64Array;
      const element = compileWriter(data.children[0]!, out, budget);
      return withNulls(data, out, (i) => {
        const start = Number(offsets[i]);
        const end = Number(offsets[i + 1]);
        out.byte(91);
        for (let j = start; j < end; j++) {
          if (j !== start) out.byte(COMMA);
          element(j);
        }
        out.byte(93);
      });
    }
    case Type.Struct: {
      const fields = type.children.map((field, k) => ({ key: `${JSON.stringify(field.name)}:`, write: compileWriter(data.children[k]!, out, budget) }));
      return withNulls(data, out, (i) => {
        out.byte(123);
        for (let k = 0; k < fields.length; k++) {
          if (k !== 0) out.byte(COMMA);
          out.text(fields[k]!.key);
          fields[k]!.write(i);
        }
        out.byte(125);
      });
    }
    default:
      break;
  }
  const vector = makeVector(data);
  return (index) => out.text(genericJson(vector.get(index)));
}
