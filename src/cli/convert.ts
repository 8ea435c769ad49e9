import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { extname } from 'node:path';
import { type DataType, Type } from 'apache-arrow';
import { parse as parseYaml } from 'yaml';
import { convertBody, parseArrowTypeSpec, readArrow } from '../convert/index.ts';
import type { BodyFormat } from '../convert/negotiate.ts';
import { GatewayError } from '../errors.ts';
import { reportError } from './report.ts';

// Offline conversion: `convert IN OUT [--to arrow|arrow-stream|json] [--schema FILE]`, `-` for stdin or stdout.
// The input format is sniffed from the bytes (Arrow magic or not); the output format comes from --to, else OUT's
// extension, else the other format. Same format in and out is refused (there is nothing to convert), except an
// Arrow file <-> stream, which is read and rewritten. --schema is docs/schema-file.md (a pipeline's inputSchema).

/** The largest input read (file or stdin): a JavaScript string holds about 512 MiB of JSON at most anyway. */
export const CONVERT_INPUT_LIMIT = 512 * 1024 * 1024;

const ARROW_EXTENSIONS = ['.arrow', '.feather', '.ipc'];
const FORMAT_NAMES: Record<BodyFormat, string> = { json: 'pandas-records JSON', 'arrow-file': 'Arrow IPC file', 'arrow-stream': 'Arrow IPC stream' };

/** A refusal with its exit code: 2 for the arguments (usage), 1 for the input. */
class ConvertError extends Error {
  constructor(message: string, readonly exitCode: 1 | 2) {
    super(message);
  }
}

function sniff(bytes: Uint8Array): BodyFormat {
  if (Buffer.from(bytes.subarray(0, 6)).toString('latin1') === 'ARROW1') return 'arrow-file';
  if (bytes.byteLength >= 4 && bytes[0] === 0xff && bytes[1] === 0xff && bytes[2] === 0xff && bytes[3] === 0xff) return 'arrow-stream';
  return 'json';
}

function isJson(bytes: Uint8Array): boolean {
  try {
    JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8'));
    return true;
  } catch {
    return false;
  }
}

function targetFormat(to: string | undefined, output: string, from: BodyFormat): BodyFormat {
  if (to === 'json') return 'json';
  if (to === 'arrow') return 'arrow-file';
  if (to === 'arrow-stream') return 'arrow-stream';
  if (to !== undefined) throw new ConvertError(`--to must be arrow, arrow-stream or json (got ${JSON.stringify(to)})`, 2);
  const extension = extname(output).toLowerCase();
  if (ARROW_EXTENSIONS.includes(extension)) return 'arrow-file';
  if (extension === '.json') return 'json';
  return from === 'json' ? 'arrow-file' : 'json';
}

/** The whole input, from a file or stdin (`-`), refused beyond CONVERT_INPUT_LIMIT before it is all held. */
async function readInput(input: string, stdin: NodeJS.ReadableStream): Promise<Buffer> {
  if (input !== '-') {
    const { size } = statSync(input);
    if (size > CONVERT_INPUT_LIMIT) throw new ConvertError(`${input} is ${size} bytes; convert reads at most ${CONVERT_INPUT_LIMIT}`, 1);
    return readFileSync(input);
  }
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of stdin) {
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer);
    total += bytes.length;
    if (total > CONVERT_INPUT_LIMIT) throw new ConvertError(`stdin is longer than ${CONVERT_INPUT_LIMIT} bytes, the most convert reads`, 1);
    chunks.push(bytes);
  }
  return Buffer.concat(chunks, total);
}

/** A --schema file: a YAML (or JSON) mapping of column name to Arrow type, as a pipeline's inputSchema. */
function readSchemaFile(file: string): Map<string, DataType> {
  const tree: unknown = parseYaml(readFileSync(file, 'utf8'));
  if (tree === null || typeof tree !== 'object' || Array.isArray(tree)) {
    throw new ConvertError(`--schema ${file} must be a mapping of column name to Arrow type, e.g. "tensor: fixed_size_list<float32>[29]" (docs/schema-file.md)`, 1);
  }
  const types = new Map<string, DataType>();
  for (const [column, spec] of Object.entries(tree)) {
    if (typeof spec !== 'string') throw new ConvertError(`--schema ${file}: column ${JSON.stringify(column)} must name an Arrow type as text (got ${JSON.stringify(spec)})`, 1);
    try {
      types.set(column, parseArrowTypeSpec(spec));
    } catch (error) {
      throw new ConvertError(`--schema ${file}: column ${JSON.stringify(column)}: ${(error as Error).message}`, 1);
    }
  }
  return types;
}

/** An Arrow type written as a schema file wants it (pyarrow's spelling: docs/schema-file.md). */
export function typeSpecOf(type: DataType): string {
  const child = (i: number) => typeSpecOf((type.children[i] as { type: DataType }).type);
  switch (type.typeId) {
    case Type.Float: return ['float16', 'float32', 'float64'][(type as DataType<Type.Float> & { precision: number }).precision] ?? String(type);
    case Type.Int: {
      const { isSigned, bitWidth } = type as DataType<Type.Int> & { isSigned: boolean; bitWidth: number };
      return `${isSigned ? 'int' : 'uint'}${bitWidth}`;
    }
    case Type.Bool: return 'bool';
    case Type.Utf8: return 'string';
    case Type.Null: return 'null';
    case Type.List: return `list<${child(0)}>`;
    case Type.FixedSizeList: return `fixed_size_list<${child(0)}>[${(type as DataType & { listSize: number }).listSize}]`;
    case Type.Struct: return `struct<${type.children.map((f: { name: string; type: DataType }) => `${f.name}: ${typeSpecOf(f.type)}`).join(', ')}>`;
    case Type.Timestamp: return `timestamp[${['s', 'ms', 'us', 'ns'][(type as DataType & { unit: number }).unit] ?? 'ms'}]`;
    default: return String(type);
  }
}

export interface ConvertIo {
  stdin: NodeJS.ReadableStream;
  out: NodeJS.WritableStream;
  err: NodeJS.WritableStream;
}

export async function convertCommand(positionals: string[], to: string | undefined, schemaFile: string | undefined, { stdin, out, err }: ConvertIo): Promise<number> {
  const [input, output, extra] = positionals;
  if (!input || !output || extra !== undefined) {
    return reportError(err, 'convert needs IN and OUT: wallaroo-gateway convert IN OUT [--to arrow|arrow-stream|json] [--schema FILE]   (- for stdin or stdout)', 2);
  }
  try {
    const bytes = await readInput(input, stdin);
    const from = sniff(bytes);
    const format = targetFormat(to, output, from);
    // Not Arrow is not yet JSON: before calling it JSON (nothing to convert), or reading it as JSON when its name
    // says Arrow, make sure it is.
    if (from === 'json' && (format === 'json' || ARROW_EXTENSIONS.includes(extname(input).toLowerCase())) && !isJson(bytes)) {
      throw new ConvertError(`${input === '-' ? 'stdin' : input} is neither Arrow IPC (no ARROW1 or stream magic) nor JSON: nothing to convert`, 2);
    }
    if (from === format) {
      const hint = from === 'json' ? 'to Arrow: --to arrow, or an .arrow OUT' : 'to JSON: --to json, or a .json OUT';
      throw new ConvertError(`${input === '-' ? 'stdin' : input} is already ${FORMAT_NAMES[from]}: nothing to convert (${hint})`, 2);
    }
    const schema = schemaFile ? readSchemaFile(schemaFile) : undefined;
    const result = convertBody(bytes, from, format, { schema });
    if (from === 'json' && !schema) {
      const inferred = readArrow(result).schema.fields.map((field) => `${field.name}: ${typeSpecOf(field.type)}`);
      err.write(
        `warning: no --schema, so the column types were inferred from the JSON: ${inferred.join(', ')}. ` +
          'Wallaroo refuses a table whose types differ from the model\'s (float32 lists, usually): write them in a schema file (docs/schema-file.md) and pass --schema FILE\n',
      );
    }
    // With the data on stdout, the summary goes to stderr.
    const summary = `${input === '-' ? 'stdin' : input} (${from}) -> ${output === '-' ? 'stdout' : output} (${format}), ${result.length} bytes\n`;
    if (output === '-') {
      out.write(result);
      err.write(summary);
    } else {
      writeFileSync(output, result);
      out.write(summary);
    }
    return 0;
  } catch (error) {
    if (error instanceof ConvertError) return reportError(err, `convert: ${error.message}`, error.exitCode);
    if (error instanceof GatewayError) return reportError(err, `${error.code}: ${error.message}`, 1);
    const { code, path } = error as NodeJS.ErrnoException;
    return reportError(err, code && path ? `convert: cannot open ${path} (${code})` : `convert failed: ${(error as Error).message}`, 1);
  }
}
