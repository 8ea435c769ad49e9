// pandas-records JSON (an array of row objects) -> Arrow. Pure. Columns named in `schema` get exactly that Arrow
// type (Wallaroo checks input schemas, and JSON carries no float width); other columns are inferred the way
// pyarrow would (infer-types.ts). The body is shape-checked before it is parsed (json-guard.ts), columns are
// capped, and every array is charged to the conversion budget before it is allocated (column-builders.ts).
import { type Data, type DataType, Field, makeData, RecordBatch, Schema, Struct, Table, tableToIPC } from 'apache-arrow';
import { GatewayError } from '../errors.ts';
import { budgetFor, type ConversionBudget, type ConversionLimits, DEFAULT_CONVERSION_LIMITS, JSON_WORKING_BYTES_PER_VALUE, jsonWorkingBytes, type ReserveWorkingMemory } from './budget.ts';
import { buildData } from './column-builders.ts';
import { type Inferred, Inference, NULL_INFERRED, toArrowType } from './infer-types.ts';
import { parseJson } from './json-guard.ts';
import './linear-schema-assign.ts';

export interface JsonToArrowOptions {
  schema?: ReadonlyMap<string, DataType> | undefined;
  /** Budgets (conversion.* in the config); the defaults when absent. */
  limits?: Readonly<ConversionLimits> | undefined;
  /**
   * The caller's buffer budget: charged the conversion's estimated working memory (jsonWorkingBytes) before
   * JSON.parse, and the JSON text before it grows (Arrow -> JSON); it throws to refuse.
   */
  reserve?: ReserveWorkingMemory | undefined;
}

export type ArrowIpcFormat = 'file' | 'stream';
export type Row = Record<string, unknown>;

/** pandas-records rows from a body: shape-checked, parsed, every row an object. */
export function parseRecords(body: string | Uint8Array, limits: Readonly<ConversionLimits> = DEFAULT_CONVERSION_LIMITS, reserve?: ReserveWorkingMemory): Row[] {
  // Keys become columns: counted before the parse, as are the values, whose working memory is charged then.
  const parsed = parseJson(body, limits, true, reserve && ((shape, text) => {
    const bytes = jsonWorkingBytes(text.length, shape);
    reserve(bytes, `converting the JSON body's ${shape.values} values takes an estimated ${bytes} bytes (${JSON_WORKING_BYTES_PER_VALUE} a value, the text and its strings)`);
  }));
  if (!Array.isArray(parsed)) {
    throw new GatewayError('GW_INVALID_JSON', 'expected pandas-records JSON: an array of row objects, e.g. [{"tensor":[1,2]}]');
  }
  for (let i = 0; i < parsed.length; i++) {
    const row: unknown = parsed[i];
    if (row === null || typeof row !== 'object' || Array.isArray(row)) {
      throw new GatewayError('GW_INVALID_JSON', `row ${i} is not a JSON object (pandas-records rows are objects)`);
    }
  }
  return parsed as Row[];
}

/** Column names in order of first appearance, as pandas does; refused past conversion.maxColumns. */
function columnsOf(rows: readonly Row[], budget: ConversionBudget): string[] {
  const columns: string[] = [];
  const seen = new Set<string>();
  for (const row of rows) {
    for (const key in row) {
      if (!seen.has(key)) {
        seen.add(key);
        columns.push(key);
        if (columns.length > budget.limits.maxColumns) budget.checkColumns(columns.length, 'the JSON body');
      }
    }
  }
  return columns;
}

/**
 * Builds a Table from parsed rows under `budget`; rows that came from no body (the simulator's answers) get
 * only the configured caps.
 */
export function recordsToTable(rows: readonly Row[], options: JsonToArrowOptions = {}, budget?: ConversionBudget): Table {
  const limits = options.limits ?? DEFAULT_CONVERSION_LIMITS;
  const spend = budget ?? budgetFor(Number.POSITIVE_INFINITY, limits);
  const columns = columnsOf(rows, spend);
  const inference = new Inference(limits.maxJsonDepth, spend, columns.length);
  const fields: Field[] = [];
  const children: Data[] = [];
  for (const column of columns) {
    spend.spend(rows.length, `column "${column}"`);
    const values = new Array<unknown>(rows.length);
    for (let i = 0; i < rows.length; i++) values[i] = Object.hasOwn(rows[i]!, column) ? rows[i]![column] : null;
    let type = options.schema?.get(column);
    if (!type) {
      let inferred: Inferred = NULL_INFERRED;
      for (let i = 0; i < values.length; i++) inferred = inference.infer(values[i], inferred, i, column, 2);
      type = toArrowType(inferred);
    }
    fields.push(new Field(column, type, true));
    children.push(buildData(type, values, column, spend));
  }
  const schema = new Schema(fields);
  const batch = new RecordBatch(schema, makeData({ type: new Struct(fields), length: rows.length, nullCount: 0, children }));
  return new Table([batch]);
}

/** Bytes the IPC encoding of `table` will take, from its buffers (plus metadata), before it is encoded. */
export function ipcBytesOf(table: Table): number {
  let bytes = 1024;
  const visit = (data: Data) => {
    bytes += 64 + (data.values?.byteLength ?? 0) + (data.valueOffsets?.byteLength ?? 0) + (data.nullBitmap?.byteLength ?? 0) + (data.typeIds?.byteLength ?? 0);
    for (const child of data.children) visit(child);
    for (const chunk of (data.dictionary?.data ?? []) as Data[]) visit(chunk);
  };
  for (const batch of table.batches) visit(batch.data);
  return bytes;
}

/** pandas-records JSON -> Arrow IPC, under the budget for this many bytes. */
export function jsonToArrow(body: string | Uint8Array, format: ArrowIpcFormat = 'file', options: JsonToArrowOptions = {}): Uint8Array {
  const limits = options.limits ?? DEFAULT_CONVERSION_LIMITS;
  // A string's length is at most its UTF-8 byte count, and costs nothing to read.
  const budget = budgetFor(typeof body === 'string' ? body.length : body.byteLength, limits);
  const table = recordsToTable(parseRecords(body, limits, options.reserve), options, budget);
  budget.checkOutput(ipcBytesOf(table), 'the Arrow IPC body');
  return tableToIPC(table, format);
}
