// Arrow types for JSON columns that have no inputSchema, inferred the way pyarrow would: int64 when every number
// is a safe integer (a JSON number is a double), float64 otherwise, utf8, bool, struct for objects, list for arrays, null when only nulls.
import { Bool, type DataType, Field, Float64, Int64, List, Null, Struct, Utf8 } from 'apache-arrow';
import { GatewayError } from '../errors.ts';
import type { ConversionBudget } from './budget.ts';

export type Inferred =
  | { kind: 'null' }
  | { kind: 'bool' }
  | { kind: 'int' }
  | { kind: 'float' }
  | { kind: 'string' }
  | { kind: 'list'; item: Inferred }
  | { kind: 'struct'; fields: Map<string, Inferred> };

export const NULL_INFERRED: Inferred = { kind: 'null' };

/** A short description of a JSON value for error messages (never the whole value). */
export function describe(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  if (Array.isArray(value)) return `an array of ${value.length}`;
  if (typeof value === 'object') return 'an object';
  const text = JSON.stringify(value) ?? String(value);
  return `${typeof value} ${text.length > 40 ? `${text.slice(0, 40)}...` : text}`;
}

export function mismatch(row: number, column: string, message: string): GatewayError {
  return new GatewayError('GW_SCHEMA_MISMATCH', `row ${row}, column "${column}": ${message}`);
}

/** Infers column types value by value; nested struct fields count against conversion.maxColumns. */
export class Inference {
  private nestedFields = 0;

  constructor(
    private readonly maxDepth: number,
    private readonly budget: ConversionBudget,
    private readonly topLevelColumns: number,
  ) {}

  infer(value: unknown, current: Inferred, row: number, column: string, depth: number): Inferred {
    if (value === null || value === undefined) return current;
    if (depth > this.maxDepth) {
      throw new GatewayError('GW_JSON_TOO_DEEP', `row ${row}, column "${column}": nested deeper than ${this.maxDepth} levels`);
    }
    switch (typeof value) {
      case 'number':
        if (current.kind === 'float') return current;
        // Only a safe integer is an int64: 1e19 or 1e300 would wrap around in a BigInt64Array (silently wrong
        // numbers), and past 2^53 a JSON number is a double anyway.
        if (current.kind === 'int' || current.kind === 'null') return Number.isSafeInteger(value) ? (current.kind === 'null' ? { kind: 'int' } : current) : { kind: 'float' };
        break;
      case 'string':
        if (current.kind === 'string' || current.kind === 'null') return current.kind === 'null' ? { kind: 'string' } : current;
        break;
      case 'boolean':
        if (current.kind === 'bool' || current.kind === 'null') return current.kind === 'null' ? { kind: 'bool' } : current;
        break;
      case 'object':
        if (Array.isArray(value)) {
          if (current.kind !== 'list' && current.kind !== 'null') break;
          let item = current.kind === 'list' ? current.item : NULL_INFERRED;
          for (let i = 0; i < value.length; i++) {
            const element: unknown = value[i];
            // Tensors are long runs of numbers: keep that loop free of calls.
            if (typeof element === 'number' && (item.kind === 'float' || (item.kind === 'int' && Number.isSafeInteger(element)))) continue;
            item = this.infer(element, item, row, column, depth + 1);
          }
          return current.kind === 'list' && current.item === item ? current : { kind: 'list', item };
        } else {
          if (current.kind !== 'struct' && current.kind !== 'null') break;
          const fields = current.kind === 'struct' ? current.fields : new Map<string, Inferred>();
          for (const [key, child] of Object.entries(value as Record<string, unknown>)) {
            const known = fields.get(key);
            if (known === undefined) this.budget.checkColumns(this.topLevelColumns + ++this.nestedFields, 'the JSON body');
            fields.set(key, this.infer(child, known ?? NULL_INFERRED, row, `${column}.${key}`, depth + 1));
          }
          return current.kind === 'struct' ? current : { kind: 'struct', fields };
        }
      default:
        break;
    }
    throw mismatch(row, column, `mixed types: ${current.kind} and ${describe(value)}`);
  }
}

export function toArrowType(inferred: Inferred): DataType {
  switch (inferred.kind) {
    case 'null': return new Null();
    case 'bool': return new Bool();
    case 'int': return new Int64();
    case 'float': return new Float64();
    case 'string': return new Utf8();
    case 'list': return new List(new Field('item', toArrowType(inferred.item), true));
    case 'struct': return new Struct([...inferred.fields].map(([name, child]) => new Field(name, toArrowType(child), true)));
  }
}
