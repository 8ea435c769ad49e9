// Arrow IPC file bodies for batching: each member's table read once (under the conversion budgets), the record
// batches of all members concatenated into one table (buffers copied, never row by row), and Wallaroo's answer
// cut back into one table per member with `table.slice`.
import { type DataType, type Field, RecordBatch, type Table, Table as ArrowTable, tableToIPC, Type } from 'apache-arrow';
import type { ConversionLimits } from '../config/types.ts';
import { budgetFor, readArrow } from '../convert/index.ts';

function hasDictionary(type: DataType): boolean {
  return type.typeId === Type.Dictionary || (type.children ?? []).some((child: Field) => hasDictionary(child.type));
}

/** The columns of a table as one string: names, types and nullability, in order. */
function columnsOf(table: Table): string {
  return table.schema.fields.map((field) => `${JSON.stringify(field.name)}:${String(field.type)}:${field.nullable ? '?' : '!'}`).join(',');
}

export interface ArrowRecords {
  table: Table;
  /** null: the table cannot share a call (dictionary columns differ per body). */
  columns: string | null;
}

/** Reads a member's Arrow IPC file; a body that does not read is not batched (Wallaroo judges it alone). */
export function readRecords(body: Uint8Array, limits: ConversionLimits): ArrowRecords | null {
  let table: Table;
  try {
    table = readArrow(body, budgetFor(body.byteLength, limits));
  } catch {
    return null;
  }
  const dictionary = table.schema.fields.some((field) => hasDictionary(field.type));
  return { table, columns: dictionary ? null : columnsOf(table) };
}

/** One Arrow IPC file holding every member's record batches, in order, under the first member's schema. */
export function joinTables(tables: readonly Table[]): Buffer {
  const schema = tables[0]!.schema;
  const batches = tables.flatMap((table) => table.batches.map((batch) => new RecordBatch(schema, batch.data)));
  return Buffer.from(tableToIPC(new ArrowTable(schema, batches), 'file'));
}

/** Framing each member's slice may add to its share of the answer (schema, footer), within splitTable's bound. */
const SLICE_FRAMING_BYTES = 64 * 1024;

/**
 * Wallaroo's Arrow answer cut into one Arrow IPC file per member; null (each member is then sent alone) when its row
 * count is not the input's, or when the slices would outgrow the answer: a dictionary column's whole dictionary is
 * written into every slice, so a 16 MiB answer split 64 ways wrote 1 GiB. The slices together may hold twice the
 * answer plus SLICE_FRAMING_BYTES per member, and never more than `conversion.maxOutputBytes`.
 */
export function splitTable(answer: Buffer, rowCounts: readonly number[], limits: ConversionLimits): Buffer[] | null {
  let table: Table;
  try {
    table = readArrow(answer, budgetFor(answer.byteLength, limits));
  } catch {
    return null;
  }
  const total = rowCounts.reduce((sum, rows) => sum + rows, 0);
  if (table.numRows !== total) return null;
  const allowance = Math.min(limits.maxOutputBytes, 2 * answer.byteLength + rowCounts.length * SLICE_FRAMING_BYTES);
  const slices: Buffer[] = [];
  let written = 0;
  let row = 0;
  for (const rows of rowCounts) {
    const slice = tableToIPC(table.slice(row, row + rows), 'file');
    written += slice.byteLength;
    if (written > allowance) return null;
    slices.push(Buffer.from(slice.buffer, slice.byteOffset, slice.byteLength));
    row += rows;
  }
  return slices;
}
