import assert from 'node:assert/strict';
import { test } from 'node:test';
import { jsonToArrow, parseInputSchema } from '../../src/convert/index.ts';
import { ccfraudBody } from '../helpers/data.ts';
import { simulatorConfig, startGateway } from '../helpers/gateway.ts';
import { ARROW_FILE, ARROW_STREAM, call, infer } from '../helpers/http.ts';
import { useSimulator } from '../helpers/simulator.ts';

const SPEC_METRICS = [
  'wallaroo_gateway_requests_total', 'wallaroo_gateway_request_duration_seconds', 'wallaroo_gateway_upstream_duration_seconds',
  'wallaroo_gateway_engine_elapsed_seconds', 'wallaroo_gateway_token_requests_total', 'wallaroo_gateway_token_expiry_timestamp_seconds',
  'wallaroo_gateway_discovery_cache_total', 'wallaroo_gateway_conversion_duration_seconds', 'wallaroo_gateway_rate_limited_total',
  'wallaroo_gateway_circuit_state', 'wallaroo_gateway_inflight_requests', 'wallaroo_gateway_batch_rows', 'wallaroo_gateway_batch_wait_seconds',
];

const EXPOSED_BUCKETS = ['0.0005', '0.001', '0.0025', '0.005', '0.01', '0.025', '0.05', '0.1', '0.25', '0.5', '1', '2.5', '5', '10', '30'];

test('/metrics has every metric of the spec, labelled as specified, plus process metrics', async (t) => {
  const simulator = await useSimulator(t);
  const gw = await startGateway(t, simulatorConfig(simulator, { pipelines: [{ name: 'ccfraud', workspace: 'demo', inputSchema: { tensor: 'fixed_size_list<float32>[29]' } }] }));
  assert.equal((await infer(gw.url, 'ccfraud', ccfraudBody())).status, 200);
  assert.equal((await infer(gw.url, 'ccfraud', ccfraudBody(), { accept: ARROW_STREAM })).status, 200);
  const text = (await call(`${gw.url}/metrics`)).text;
  for (const name of SPEC_METRICS) assert.match(text, new RegExp(`^# TYPE ${name} `, 'm'), name);
  assert.match(text, /^process_cpu_seconds_total /m);
  assert.match(text, /^wallaroo_gateway_requests_total\{pipeline="ccfraud",route="infer",status="200"\} 2$/m);
  assert.match(text, /^wallaroo_gateway_upstream_duration_seconds_count\{pipeline="ccfraud",status="200"\} 2$/m);
  assert.match(text, /^wallaroo_gateway_token_requests_total\{kind="inference",result="success"\} 1$/m);
  assert.match(text, /^wallaroo_gateway_discovery_cache_total\{result="miss"\} 1$/m);
  assert.match(text, /^wallaroo_gateway_conversion_duration_seconds_count\{direction="arrow-file->arrow-stream"\} 1$/m);
  assert.match(text, /^wallaroo_gateway_inflight_requests\{pipeline="ccfraud"\} 0$/m);
  assert.match(text, /^wallaroo_gateway_circuit_state\{pipeline="ccfraud"\} 0$/m);
  // Buckets from sub-millisecond to 30 s, as exposed (the dashboard and the status page read these bounds),
  // cumulative, ending at the two requests made.
  const buckets = [...text.matchAll(/^wallaroo_gateway_request_duration_seconds_bucket\{le="([^"]+)",pipeline="ccfraud",route="infer"\} (\d+)$/gm)];
  assert.deepEqual(buckets.map((b) => b[1]), [...EXPOSED_BUCKETS, '+Inf']);
  const counts = buckets.map((b) => Number(b[2]));
  assert.ok(counts.every((count, i) => i === 0 || count >= counts[i - 1]!), `cumulative: ${counts.join(' ')}`);
  assert.equal(counts.at(-1), 2);
  const upstreamBounds = [...text.matchAll(/^wallaroo_gateway_upstream_duration_seconds_bucket\{le="([^"]+)",pipeline="ccfraud",status="200"\} \d+$/gm)].map((b) => b[1]);
  assert.deepEqual(upstreamBounds, [...EXPOSED_BUCKETS, '+Inf'], 'upstream time uses the same bounds, so the two can be compared');
});

test("engine time comes from Wallaroo's metadata.elapsed, for JSON and Arrow answers, streamed or converted", async (t) => {
  const simulator = await useSimulator(t);
  const gw = await startGateway(t, simulatorConfig(simulator, { pipelines: [{ name: 'ccfraud', workspace: 'demo', inputSchema: { tensor: 'fixed_size_list<float32>[29]' } }] }));
  const arrow = Buffer.from(jsonToArrow(ccfraudBody(3), 'file', { schema: parseInputSchema({ tensor: 'fixed_size_list<float32>[29]' }) }));
  const cases: Array<[string | Buffer, Record<string, string>]> = [
    [ccfraudBody(), {}], // JSON streamed through
    [arrow, { 'content-type': ARROW_FILE, accept: ARROW_FILE }], // Arrow streamed through
    [ccfraudBody(), { accept: ARROW_STREAM }], // Arrow converted
    [arrow, { 'content-type': ARROW_FILE }], // JSON, Wallaroo's default answer, streamed
  ];
  const reported: Array<{ engineMs: number; durationMs: number }> = [];
  for (const [body, headers] of cases) {
    const answer = await infer(gw.url, 'ccfraud', body, headers);
    assert.equal(answer.status, 200);
    const line = gw.logs.filter((l) => l.msg === 'request').at(-1)!;
    assert.equal(typeof line.engineMs, 'number', JSON.stringify(line));
    reported.push({ engineMs: line.engineMs as number, durationMs: line.durationMs as number });
  }
  const metric = await gw.registry.getSingleMetric('wallaroo_gateway_engine_elapsed_seconds')!.get();
  const count = metric.values.find((v) => (v as { metricName?: string }).metricName === 'wallaroo_gateway_engine_elapsed_seconds_count');
  assert.equal(count?.value, 4);
  // The simulator's elapsed are real nanosecond timings of its parse and model steps: positive, and (read in the
  // right unit) inside the request that carried them.
  for (const { engineMs, durationMs } of reported) assert.ok(engineMs > 0 && engineMs <= durationMs, `engine ${engineMs} ms in a ${durationMs} ms request`);
});

test('/metrics moves to its own port when metrics.port is set', async (t) => {
  const simulator = await useSimulator(t);
  const gw = await startGateway(t, simulatorConfig(simulator, { metrics: { port: 0 } }));
  assert.ok(gw.metricsUrl);
  assert.equal((await call(`${gw.url}/metrics`)).status, 404);
  const separate = await call(`${gw.metricsUrl}/metrics`);
  assert.equal(separate.status, 200);
  assert.match(separate.text, /^# TYPE wallaroo_gateway_requests_total counter$/m);
  assert.equal((await call(`${gw.url}/healthz`)).status, 200);
});
