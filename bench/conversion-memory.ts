import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { convertBody, parseInputSchema } from '../src/convert/index.ts';

/**
 * Working memory of one JSON -> Arrow conversion per value the body holds (scalars, arrays and objects), above
 * the body's own bytes: the number behind JSON_WORKING_BYTES_PER_VALUE (src/convert/budget.ts). Each shape runs
 * in a fresh process: the body is written into a Buffer in chunks (no big string on the way), the heap is
 * collected, then the peak RSS the kernel reports for the process (resourceUsage().maxRSS) after the conversion,
 * minus the RSS before it, is the conversion's working memory: the decoded text, JSON.parse's values, the
 * column arrays and Arrow builders, and the IPC output, all at their high-water mark.
 *
 *   node --expose-gc --import tsx bench/conversion-memory.ts            # every shape, 16 MB each
 *   node --expose-gc --import tsx bench/conversion-memory.ts dense 48   # one shape, 48 MB
 */

type Shape = 'dense' | 'dense-floats' | 'tensor29' | 'tensor29-schema' | 'rows10' | 'strings' | 'text' | 'nested';

const SHAPES: Shape[] = ['dense', 'dense-floats', 'tensor29', 'tensor29-schema', 'rows10', 'strings', 'text', 'nested'];

/** A JSON body of about `bytes` bytes of `shape`, written chunk by chunk, and how many values it holds. */
function build(shape: Shape, bytes: number): { body: Buffer; values: number } {
  const body = Buffer.allocUnsafe(bytes + 4096);
  let at = 0;
  let values = 1; // the outer array
  const put = (text: string) => {
    at += body.write(text, at, 'latin1');
  };
  let random = 12345;
  const float = () => {
    random = (random * 1103515245 + 12345) % 2147483648;
    return (random / 2147483648 - 0.5) * 4;
  };
  if (shape === 'dense' || shape === 'dense-floats') {
    put('[{"a":[');
    values += 2;
    let first = true;
    const item = shape === 'dense' ? '1' : '1.5';
    while (at < bytes - 8) {
      put(first ? item : `,${item}`);
      first = false;
      values++;
    }
    put(']}]');
  } else {
    put('[');
    let first = true;
    let row = 0;
    while (at < bytes - 1024) {
      if (!first) put(',');
      first = false;
      values++; // the row object
      if (shape === 'tensor29' || shape === 'tensor29-schema') {
        const items: string[] = [];
        for (let i = 0; i < 29; i++) items.push(float().toFixed(10));
        put(`{"tensor":[${items.join(',')}]}`);
        values += 30;
      } else if (shape === 'rows10') {
        const fields: string[] = [];
        for (let i = 0; i < 10; i++) fields.push(`"feature_${i}":${float().toFixed(6)}`);
        put(`{${fields.join(',')}}`);
        values += 10;
      } else if (shape === 'strings') {
        put(`{"id":"r${row}","label":"cls${row % 7}"}`);
        values += 2;
      } else if (shape === 'text') {
        put(`{"text":"${'lorem ipsum '.repeat(16)}${row}"}`);
        values += 1;
      } else {
        put(`{"a":{"b":[${row % 10},${(row + 1) % 10}]},"c":${row % 3}}`);
        values += 6;
      }
      row++;
    }
    put(']');
  }
  return { body: body.subarray(0, at), values };
}

function child(shape: Shape, megabytes: number): void {
  const { body, values } = build(shape, Math.round(megabytes * 1e6));
  const schema = shape === 'tensor29-schema' ? parseInputSchema({ tensor: 'fixed_size_list<float32>[29]' }) : undefined;
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('run with node --expose-gc');
  gc();
  gc();
  const before = process.memoryUsage.rss();
  const peakBefore = process.resourceUsage().maxRSS * 1024;
  const started = performance.now();
  const out = convertBody(body, 'json', 'arrow-stream', { schema });
  const ms = performance.now() - started;
  const peak = process.resourceUsage().maxRSS * 1024;
  const working = peak - before;
  process.stdout.write(
    `${JSON.stringify({ shape, bodyBytes: body.length, values, bytesPerValue: +(values ? body.length / values : 0).toFixed(2), outBytes: out.length, ms: Math.round(ms), workingMiB: +(working / 2 ** 20).toFixed(1), workingPerValue: +(working / values).toFixed(1), peakBeforeAboveRest: peakBefore - before })}\n`,
  );
}

const [shapeArg, megabytesArg, childFlag] = process.argv.slice(2);
if (childFlag === 'child') {
  child(shapeArg as Shape, Number(megabytesArg));
} else {
  const shapes = shapeArg ? [shapeArg as Shape] : SHAPES;
  const megabytes = megabytesArg ?? '16';
  for (const shape of shapes) {
    execFileSync(process.execPath, ['--expose-gc', '--import', 'tsx', fileURLToPath(import.meta.url), shape, megabytes, 'child'], { stdio: 'inherit' });
  }
}
