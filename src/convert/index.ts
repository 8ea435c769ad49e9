// The conversion room's entry points: convertBody for the request path and the CLI, and what the simulator,
// the engine-time reader and the bench use. Every conversion runs under a budget sized from its input
// (budget.ts); every failure is a coded GatewayError.
import { tableToIPC } from 'apache-arrow';
import { GatewayError } from '../errors.ts';
import { tableToJsonBytes } from './arrow-to-json.ts';
import { budgetFor } from './budget.ts';
import { ipcBytesOf, type JsonToArrowOptions, jsonToArrow } from './json-to-arrow.ts';
import type { BodyFormat } from './negotiate.ts';
import { readArrow } from './read-arrow.ts';

export { arrowToJson, formatFloat32, tableToJson, tableToJsonBytes } from './arrow-to-json.ts';
export { parseArrowTypeSpec, parseInputSchema } from './arrow-types.ts';
export { budgetFor, ConversionBudget, type ConversionLimits, DEFAULT_CONVERSION_LIMITS, JSON_WORKING_BYTES_PER_VALUE, jsonWorkingBytes, type ReserveWorkingMemory } from './budget.ts';
export { checkJsonShape, parseJson } from './json-guard.ts';
export { jsonToArrow, type JsonToArrowOptions, parseRecords, recordsToTable } from './json-to-arrow.ts';
export { readArrow } from './read-arrow.ts';

/** Converts a whole body between the gateway's formats. Pure; every failure is a coded GatewayError. */
export function convertBody(body: Uint8Array, from: BodyFormat, to: BodyFormat, options: JsonToArrowOptions = {}): Buffer {
  if (from === to) return Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  try {
    if (from === 'json') return Buffer.from(jsonToArrow(body, to === 'arrow-file' ? 'file' : 'stream', options));
    const budget = budgetFor(body.byteLength, options.limits, options.reserve);
    const table = readArrow(body, budget);
    if (to === 'json') return tableToJsonBytes(table, budget);
    const ipcBytes = ipcBytesOf(table);
    budget.checkOutput(ipcBytes, 'the Arrow IPC body');
    options.reserve?.(ipcBytes, `the Arrow IPC body's ${ipcBytes} bytes`);
    return Buffer.from(tableToIPC(table, to === 'arrow-file' ? 'file' : 'stream'));
  } catch (error) {
    if (error instanceof GatewayError) throw error;
    // Input that got past the checks and failed deeper in apache-arrow (or a JavaScript engine limit). The
    // error's own text describes our internals, so it goes to the log (cause), not to the caller.
    const code = from === 'json' ? 'GW_INVALID_JSON' : 'GW_INVALID_ARROW';
    throw new GatewayError(code, `the ${from === 'json' ? 'JSON' : 'Arrow IPC'} body could not be converted`, { cause: error });
  }
}
