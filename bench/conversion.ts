import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { arrowToJson, jsonToArrow, parseInputSchema, readArrow, tableToJsonBytes } from '../src/convert/index.ts';

/**
 * Conversion speed against the JavaScript baselines measured in the same run: JSON -> Arrow against
 * JSON.parse of the same text, Arrow -> JSON against JSON.stringify of the same rows. 10,000 rows x 29 float32
 * (Wallaroo's cc_data_10k.arrow, kept in test/fixtures/wallaroo-samples). Times are
 * the process's CPU time (user + system), not wall time: on a shared machine wall time also counts the waits
 * for a core, which swung the ratios by +-50% from run to run.
 */
export interface ConversionResult {
  rows: number;
  jsonBytes: number;
  arrowBytes: number;
  ms: Record<string, number>;
  ratios: { jsonToArrowVsParse: number; jsonToArrowInferredVsParse: number; arrowToJsonVsStringify: number };
  oneRowMicros: { jsonToArrow: number; arrowToJson: number };
  targets: { jsonToArrow: boolean; arrowToJson: boolean };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

/** CPU milliseconds `run` takes. */
function cpuMs(run: () => unknown): number {
  const started = process.cpuUsage();
  run();
  const used = process.cpuUsage(started);
  return (used.user + used.system) / 1000;
}

/** Runs each case interleaved, `rounds` times, and keeps the median: fair under a noisy 2-core machine. */
function measure(cases: Record<string, () => unknown>, rounds: number): Record<string, number> {
  const samples: Record<string, number[]> = Object.fromEntries(Object.keys(cases).map((k) => [k, []]));
  for (const run of Object.values(cases)) for (let i = 0; i < 3; i++) run(); // warm-up: JIT, caches
  for (let round = 0; round < rounds; round++) {
    for (const [name, run] of Object.entries(cases)) samples[name]!.push(cpuMs(run));
  }
  return Object.fromEntries(Object.entries(samples).map(([k, v]) => [k, median(v)]));
}

function sourceArrow(): Uint8Array {
  return readFileSync(fileURLToPath(new URL('../test/fixtures/wallaroo-samples/cc_data_10k.arrow', import.meta.url)));
}

export function benchConversion(rounds = 15): ConversionResult {
  const schema = parseInputSchema({ tensor: 'fixed_size_list<float32>[29]' });
  const arrow = sourceArrow();
  const table = readArrow(arrow);
  const jsonText = tableToJsonBytes(table).toString();
  const rows = JSON.parse(jsonText) as unknown[];
  const ms = measure(
    {
      'JSON.parse': () => JSON.parse(jsonText),
      'json->arrow (inputSchema)': () => jsonToArrow(jsonText, 'file', { schema }),
      'json->arrow (inferred)': () => jsonToArrow(jsonText, 'file'),
      'JSON.stringify': () => JSON.stringify(rows),
      'arrow->json': () => arrowToJson(arrow),
    },
    rounds,
  );
  const oneRowJson = JSON.stringify([rows[0]]);
  const oneRowArrow = jsonToArrow(oneRowJson, 'file', { schema });
  const perCall = (run: () => unknown, n = 2_000) => {
    for (let i = 0; i < 200; i++) run();
    return (cpuMs(() => {
      for (let i = 0; i < n; i++) run();
    }) / n) * 1000;
  };
  const ratios = {
    jsonToArrowVsParse: ms['json->arrow (inputSchema)']! / ms['JSON.parse']!,
    jsonToArrowInferredVsParse: ms['json->arrow (inferred)']! / ms['JSON.parse']!,
    arrowToJsonVsStringify: ms['arrow->json']! / ms['JSON.stringify']!,
  };
  return {
    rows: table.numRows,
    jsonBytes: Buffer.byteLength(jsonText),
    arrowBytes: arrow.byteLength,
    ms,
    ratios,
    oneRowMicros: {
      jsonToArrow: perCall(() => jsonToArrow(oneRowJson, 'file', { schema })),
      arrowToJson: perCall(() => arrowToJson(oneRowArrow)),
    },
    targets: { jsonToArrow: ratios.jsonToArrowVsParse <= 1.5, arrowToJson: ratios.arrowToJsonVsStringify <= 1.5 },
  };
}

export function printConversion(result: ConversionResult): void {
  console.log(`\nConversion: ${result.rows} rows x 29 float32 (JSON ${(result.jsonBytes / 1e6).toFixed(1)} MB, Arrow ${(result.arrowBytes / 1e6).toFixed(1)} MB), CPU time, median of interleaved runs`);
  for (const [name, ms] of Object.entries(result.ms)) console.log(`  ${name.padEnd(28)} ${ms.toFixed(1).padStart(8)} ms`);
  const r = result.ratios;
  console.log(`  JSON->Arrow / JSON.parse        ${r.jsonToArrowVsParse.toFixed(2)}x  (target <= 1.5x: ${result.targets.jsonToArrow ? 'met' : 'NOT met'}); inferred types ${r.jsonToArrowInferredVsParse.toFixed(2)}x`);
  console.log(`  Arrow->JSON / JSON.stringify    ${r.arrowToJsonVsStringify.toFixed(2)}x  (target <= 1.5x: ${result.targets.arrowToJson ? 'met' : 'NOT met'})`);
  console.log(`  one row per request: JSON->Arrow ${result.oneRowMicros.jsonToArrow.toFixed(0)} us, Arrow->JSON ${result.oneRowMicros.arrowToJson.toFixed(0)} us`);
}
