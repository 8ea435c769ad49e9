import { tableToIPC } from 'apache-arrow';
import { readArrow, tableToJsonBytes } from './arrow-to-json.ts';
import { type JsonToArrowOptions, jsonToArrow } from './json-to-arrow.ts';
import type { BodyFormat } from './negotiate.ts';

export { arrowToJson, formatFloat32, readArrow, tableToJson, tableToJsonBytes } from './arrow-to-json.ts';
export { jsonToArrow, parseRecords, recordsToTable } from './json-to-arrow.ts';
export { parseArrowTypeSpec, parseInputSchema } from './arrow-types.ts';

/** Converts a whole body between the gateway's formats. Pure; throws coded GatewayErrors on bad input. */
export function convertBody(body: Uint8Array, from: BodyFormat, to: BodyFormat, options: JsonToArrowOptions = {}): Buffer {
  if (from === to) return Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  if (from === 'json') return Buffer.from(jsonToArrow(body, to === 'arrow-file' ? 'file' : 'stream', options));
  const table = readArrow(body);
  if (to === 'json') return tableToJsonBytes(table);
  return Buffer.from(tableToIPC(table, to === 'arrow-file' ? 'file' : 'stream'));
}
