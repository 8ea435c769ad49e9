import { readFileSync, writeFileSync } from 'node:fs';
import { extname } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { convertBody } from '../convert/index.ts';
import { parseInputSchema } from '../convert/arrow-types.ts';
import type { BodyFormat } from '../convert/negotiate.ts';
import { GatewayError } from '../errors.ts';

/**
 * Offline conversion: `convert IN OUT [--to arrow|json] [--schema FILE]`. The input format is sniffed from
 * the bytes (Arrow magic or not); the output format comes from --to, else from OUT's extension.
 * --schema is a YAML/JSON map of column -> Arrow type, the same as a pipeline's inputSchema.
 */
export function convertCommand(positionals: string[], to: string | undefined, schemaFile: string | undefined, out: NodeJS.WritableStream, err: NodeJS.WritableStream): number {
  const [input, output] = positionals;
  if (!input || !output) {
    err.write('usage: wallaroo-gateway convert IN OUT [--to arrow|json] [--schema FILE]\n');
    return 2;
  }
  const target = to ?? (['.arrow', '.feather', '.ipc'].includes(extname(output).toLowerCase()) ? 'arrow' : 'json');
  if (target !== 'arrow' && target !== 'json' && target !== 'arrow-stream') {
    err.write(`--to must be arrow or json (got ${target})\n`);
    return 2;
  }
  try {
    const bytes = readFileSync(input);
    const from: BodyFormat = bytes.subarray(0, 6).toString('latin1') === 'ARROW1' ? 'arrow-file' : bytes.readUInt32LE(0) === 0xffffffff ? 'arrow-stream' : 'json';
    const schema = schemaFile ? parseInputSchema(parseYaml(readFileSync(schemaFile, 'utf8')) as Record<string, string>) : undefined;
    const format: BodyFormat = target === 'json' ? 'json' : target === 'arrow' ? 'arrow-file' : 'arrow-stream';
    const result = convertBody(bytes, from, format, { schema });
    writeFileSync(output, result);
    out.write(`${input} (${from}) -> ${output} (${format}), ${result.length} bytes\n`);
    return 0;
  } catch (error) {
    if (error instanceof GatewayError) {
      err.write(`${error.code}: ${error.message}\n`);
      return 1;
    }
    err.write(`convert failed: ${(error as Error).message}\n`);
    return 1;
  }
}
