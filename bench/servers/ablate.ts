import { register } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Counter, Gauge, Histogram } from 'prom-client';

// Preloaded (`node --import`) into a compiled gateway by `npm run bench ablate` to turn one feature off that has
// no config switch, so its cost per request shows as a difference in the same run. BENCH_ABLATE lists them:
//   metrics      every prom-client update is a no-op (Counter, Gauge, Histogram)
//   engine-time  the answer is not searched for metadata.elapsed (no read, no observation)
//   slot         no concurrency slot and no breaker verdict per call (the gate hands out one shared slot)
//   headers      no header hygiene: the fixed upstream headers only, and Wallaroo's answer headers untouched
// The request log, rate limit, tracing and caller identity have config switches and are not touched here.
// Bench only: these patches reach into dist/ by name, so a rename there fails loudly at start, not silently.

const ablated = new Set((process.env.BENCH_ABLATE ?? '').split(',').filter(Boolean));
const dist = (file: string) => pathToFileURL(join(process.cwd(), 'dist', file)).href;
const noop = () => undefined;

function patch(target: object, name: string, replacement: unknown): void {
  if (typeof (target as Record<string, unknown>)[name] !== 'function') throw new Error(`bench ablation: ${name} is not a method here; update bench/servers/ablate.ts`);
  (target as Record<string, unknown>)[name] = replacement;
}

for (const feature of ablated) {
  if (feature === 'metrics') {
    // Counter and Histogram pick their method in the constructor, from these (the preload runs first).
    for (const method of ['inc', 'dec', 'set']) patch(Gauge.prototype, method, noop);
    patch(Counter.prototype, 'incWithoutExemplar', noop);
    patch(Histogram.prototype, 'observeWithoutExemplar', noop);
  } else if (feature === 'engine-time') {
    const { InferenceRoute } = (await import(dist('proxy/inference.js'))) as { InferenceRoute: { prototype: object } };
    patch(InferenceRoute.prototype, 'recordEngineTime', noop);
  } else if (feature === 'slot') {
    const { AdmissionGate } = (await import(dist('limits/admission.js'))) as { AdmissionGate: { prototype: object } };
    patch(AdmissionGate.prototype, 'slot', async function slot(this: { retryBudget: unknown }) {
      return { retryBudget: this.retryBudget, judge: noop, release: noop };
    });
  } else if (feature === 'headers') {
    register(pathToFileURL(join(process.cwd(), 'bench/.build/servers/ablate-hooks.js')).href);
  } else {
    throw new Error(`bench ablation: unknown feature ${feature}`);
  }
}
