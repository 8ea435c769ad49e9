import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { benchAblation, printAblation } from './ablation.ts';
import { benchBatching, printBatching } from './batching.ts';
import { benchConversion, printConversion } from './conversion.ts';
import { benchProxies, benchTracing, printProxies } from './proxy.ts';

/**
 * `npm run bench [conversion|proxy|batching|tracing|ablate]` (`--ablate` too): bounded (a few minutes), loopback
 * only; prints and writes bench/results.json. `ablate` is the CPU-per-request table by feature (bench/ablation.ts).
 */
const only = process.argv[2]?.replace(/^--/, '');
const results: Record<string, unknown> = { node: process.version, date: new Date().toISOString() };

if (!only || only === 'conversion') {
  const conversion = benchConversion();
  printConversion(conversion);
  results.conversion = conversion;
}
if (!only || only === 'proxy') {
  const proxies = await benchProxies();
  printProxies(proxies);
  results.proxy = proxies;
}
if (!only || only === 'batching') {
  const batching = await benchBatching();
  printBatching(batching);
  results.batching = batching;
}
if (only === 'tracing') {
  const tracing = await benchTracing();
  console.log(JSON.stringify(tracing, null, 2));
  results.tracing = tracing;
}

if (only === 'ablate') {
  const ablation = await benchAblation();
  printAblation(ablation);
  results.ablation = ablation;
}

const file = fileURLToPath(new URL('./results.json', import.meta.url));
writeFileSync(file, `${JSON.stringify(results, null, 2)}\n`);
console.log(`\nwrote ${file}`);
