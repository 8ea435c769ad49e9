import { tableToIPC } from 'apache-arrow';
import { readArrow, tableToJsonBytes } from './arrow-to-json.ts';
import { type JsonToArrowOptions, jsonToArrow } from './json-to-arrow.ts';
import type { BodyFormat } from './negotiate.ts';
import { GatewayError } from '../errors.ts';

export { arrowToJson, formatFloat32, readArrow, tableToJson, tableToJsonBytes } from './arrow-to-json.ts';
export { jsonToArrow, parseRecords, recordsToTable } from './json-to-arrow.ts';
export { parseArrowTypeSpec, parseInputSchema } from './arrow-types.ts';

/** Converts a whole body between the gateway's formats. Pure; every failure is a coded GatewayError. */
export function convertBody(body: Uint8Array, from: BodyFormat, to: BodyFormat, options: JsonToArrowOptions = {}): Buffer {
  if (from === to) return Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  try {
    if (from === 'json') return Buffer.from(jsonToArrow(body, to === 'arrow-file' ? 'file' : 'stream', options));
    const table = readArrow(body);
    if (to === 'json') return tableToJsonBytes(table);
    return Buffer.from(tableToIPC(table, to === 'arrow-file' ? 'file' : 'stream'));
  } catch (error) {
    if (error instanceof GatewayError) throw error;
    // Corrupt input that got past the checks and failed deeper in apache-arrow (or a JS engine limit).
    const code = from === 'json' ? 'GW_INVALID_JSON' : 'GW_INVALID_ARROW';
    throw new GatewayError(code, `the ${from === 'json' ? 'JSON' : 'Arrow IPC'} body could not be converted: ${(error as Error).message}`, { cause: error });
  }
}
