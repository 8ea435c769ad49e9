import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { parser } from '@prometheus-io/lezer-promql';
import { Registry } from 'prom-client';
import { createMetrics } from '../../src/observability/metrics.ts';
import { ROOT } from '../helpers/process.ts';

interface Panel {
  type: string;
  title: string;
  targets?: Array<{ expr: string }>;
  panels?: Panel[];
}

const DASHBOARD = join(ROOT, 'helm/wallaroo-gateway/dashboards/wallaroo-gateway.json');

function allPanels(panels: Panel[]): Panel[] {
  return panels.flatMap((panel) => [panel, ...allPanels(panel.panels ?? [])]);
}

/** Series names the gateway exports: its metrics and Node's default ones, histograms as their three series. */
function exportedSeries(): Set<string> {
  const registry = new Registry();
  createMetrics(registry);
  const names = new Set<string>();
  for (const metric of registry.getMetricsAsArray() as unknown as Array<{ name: string; type: string }>) {
    if (metric.type === 'histogram') for (const suffix of ['_bucket', '_sum', '_count']) names.add(metric.name + suffix);
    else names.add(metric.name);
  }
  return names;
}

/** Metric names in a PromQL expression, parsed with Prometheus' own grammar; throws on a syntax error. */
function metricNames(expr: string): string[] {
  // What Grafana does before sending: its interval macros become durations ($job and $pipeline sit in strings).
  const promql = expr.replaceAll('$__rate_interval', '5m').replaceAll('$__interval', '1m').replaceAll('$__range', '1h');
  const names: string[] = [];
  const errors: number[] = [];
  parser.parse(promql).iterate({
    enter(node) {
      if (node.type.isError) errors.push(node.from);
      if (node.name === 'Identifier' && node.node.parent?.name === 'VectorSelector') names.push(promql.slice(node.from, node.to));
    },
  });
  assert.deepEqual(errors, [], `PromQL syntax error in: ${expr}`);
  return names;
}

test('Grafana dashboard: every PromQL expression parses and names only series the gateway exports; it covers what operators watch', () => {
  const dashboard = JSON.parse(readFileSync(DASHBOARD, 'utf8')) as { uid: string; panels: Panel[]; templating: { list: Array<{ name: string; definition?: string }> } };
  const panels = allPanels(dashboard.panels);
  const expressions = panels.flatMap((panel) => (panel.targets ?? []).map((target) => target.expr));
  // Template variables query label_values(<selector>, <label>): the selector is PromQL too.
  for (const variable of dashboard.templating.list) {
    const selector = /^label_values\((.+), *\w+\)$/.exec(variable.definition ?? '')?.[1];
    if (variable.definition) assert.ok(selector, `${variable.name}: ${variable.definition}`);
    if (selector) expressions.push(selector);
  }
  assert.ok(expressions.length >= 15, `${expressions.length} expressions`);

  const exported = exportedSeries();
  const used = new Set(expressions.flatMap(metricNames));
  const unknown = [...used].filter((name) => !exported.has(name));
  assert.deepEqual(unknown, [], 'series the gateway does not export');
  // It really looks at the gateway: most of its own metrics appear.
  for (const name of ['wallaroo_gateway_requests_total', 'wallaroo_gateway_request_duration_seconds_bucket', 'wallaroo_gateway_engine_elapsed_seconds_bucket',
    'wallaroo_gateway_token_expiry_timestamp_seconds', 'wallaroo_gateway_circuit_state', 'wallaroo_gateway_rate_limited_total', 'wallaroo_gateway_trace_spans_total']) {
    assert.ok(used.has(name), name);
  }
  const titles = panels.map((panel) => panel.title);
  for (const title of ['Throughput', 'Error ratio (5xx)', 'p99 added by the gateway over engine time', 'Token expires in', 'Circuit breaker', 'Rate limited', 'Batching']) {
    assert.ok(titles.includes(title), title);
  }
  assert.equal(dashboard.uid, 'wallaroo-gateway');
});
