// Arrow -> pandas-records JSON (an array of row objects), as Wallaroo's own answers are written. Reading and
// validating the Arrow is read-arrow.ts's job, the values column-writers.ts's, the bytes json-writer.ts's.
import type { Table } from 'apache-arrow';
import { GatewayError } from '../errors.ts';
import { budgetFor, type ConversionBudget, type ConversionLimits } from './budget.ts';
import { compileWriter } from './column-writers.ts';
import { JsonOutput } from './json-writer.ts';
import { readArrow } from './read-arrow.ts';

export { formatFloat32, formatFloat64 } from './float-format.ts';
export { readArrow } from './read-arrow.ts'; // the simulator imports it from here

const COMMA = 44;

/**
 * The rows of a table as pandas-records JSON, UTF-8 bytes. With a budget (anything read from outside), the
 * output may not outgrow it; without one the table is trusted (built by the gateway or its simulator).
 */
export function tableToJsonBytes(table: Table, budget: ConversionBudget | null = null): Buffer {
  const out = new JsonOutput(Math.max(1024, table.numRows * 64), budget);
  const names = table.schema.fields.map((field) => `${JSON.stringify(field.name)}:`);
  out.byte(91);
  let first = true;
  for (const batch of table.batches) {
    const writers = batch.data.children.map((child) => compileWriter(child, out, budget));
    for (let row = 0; row < batch.numRows; row++) {
      if (!first) out.byte(COMMA);
      first = false;
      out.byte(123);
      for (let c = 0; c < writers.length; c++) {
        if (c !== 0) out.byte(COMMA);
        out.text(names[c]!);
        writers[c]!(row);
      }
      out.byte(125);
    }
  }
  out.byte(93);
  return out.result();
}

/** The rows of a table as pandas-records JSON text. */
export function tableToJson(table: Table): string {
  return tableToJsonBytes(table).toString('utf8');
}

/** Arrow IPC (file or stream) -> pandas-records JSON bytes, under the budget for this many bytes. */
export function arrowToJson(bytes: Uint8Array, limits?: Readonly<ConversionLimits>): Buffer {
  const budget = budgetFor(bytes.byteLength, limits);
  const table = readArrow(bytes, budget);
  try {
    return tableToJsonBytes(table, budget);
  } catch (error) {
    if (error instanceof GatewayError) throw error;
    throw new GatewayError('GW_INVALID_ARROW', 'the Arrow IPC body could not be decoded', { cause: error });
  }
}
