import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { benchConversion, printConversion } from './conversion.ts';

/** `npm run bench`: bounded, loopback only. Prints a table and writes bench/results.json. */
const only = process.argv[2];
const results: Record<string, unknown> = { node: process.version, date: new Date().toISOString() };

if (!only || only === 'conversion') {
  const conversion = benchConversion();
  printConversion(conversion);
  results.conversion = conversion;
}

const file = fileURLToPath(new URL('./results.json', import.meta.url));
writeFileSync(file, `${JSON.stringify(results, null, 2)}\n`);
console.log(`\nwrote ${file}`);
