import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { Registry } from 'prom-client';
import { createMetrics, METRIC_PREFIX } from '../../src/observability/metrics.ts';

// Every metric the gateway registers is in the contract's list and in the README's table: a dashboard is built
// from the docs, and a metric missing there is one nobody alerts on.
function section(file: string, heading: RegExp): string {
  const text = readFileSync(new URL(`../../${file}`, import.meta.url), 'utf8');
  const start = text.search(heading);
  assert.ok(start >= 0, `${file} has ${heading}`);
  const next = text.slice(start + 1).search(/\n## /);
  return next < 0 ? text.slice(start) : text.slice(start, start + 1 + next);
}

test('every metric the gateway registers is documented in docs/SPEC.md "Metrics" and the README table', async () => {
  const registry = new Registry();
  createMetrics(registry, { defaultMetrics: false });
  const names = (await registry.getMetricsAsJSON()).map((metric) => metric.name.slice(METRIC_PREFIX.length));
  assert.ok(names.length >= 20, `the gateway's own metrics: ${names.join(', ')}`);
  const spec = section('docs/SPEC.md', /\n## Metrics/);
  const readme = section('README.md', /\nMetrics \(prefix `wallaroo_gateway_`/);
  assert.deepEqual(names.filter((name) => !spec.includes(`\`${name}{`) && !spec.includes(`\`${name}\``)), [], 'missing from docs/SPEC.md');
  assert.deepEqual(names.filter((name) => !readme.includes(`| \`${name}\` |`)), [], 'missing from the README table');
});
