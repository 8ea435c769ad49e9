import assert from 'node:assert/strict';
import { test } from 'node:test';
import { jsonToArrow, parseInputSchema } from '../../src/convert/index.ts';
import { DURATION_BUCKETS } from '../../src/observability/metrics.ts';
import { ccfraudBody } from '../helpers/data.ts';
import { simulatorConfig, startGateway } from '../helpers/gateway.ts';
import { ARROW_FILE, ARROW_STREAM, call, infer, JSON_RECORDS } from '../helpers/http.ts';
import { useSimulator } from '../helpers/simulator.ts';

const SPEC_METRICS = [
  'wallaroo_gateway_requests_total', 'wallaroo_gateway_request_duration_seconds', 'wallaroo_gateway_upstream_duration_seconds',
  'wallaroo_gateway_engine_elapsed_seconds', 'wallaroo_gateway_token_requests_total', 'wallaroo_gateway_token_expiry_timestamp_seconds',
  'wallaroo_gateway_discovery_cache_total', 'wallaroo_gateway_conversion_duration_seconds', 'wallaroo_gateway_rate_limited_total',
  'wallaroo_gateway_circuit_state', 'wallaroo_gateway_inflight_requests', 'wallaroo_gateway_batch_rows', 'wallaroo_gateway_batch_wait_seconds',
];

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
  assert.match(text, /^wallaroo_gateway_request_duration_seconds_bucket\{le="0.0005",pipeline="ccfraud",route="infer"\} \d+$/m);
  assert.ok(DURATION_BUCKETS[0]! <= 0.0005 && DURATION_BUCKETS.at(-1)! >= 30, 'buckets span sub-millisecond to 30 s');
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
  const reported: number[] = [];
  for (const [body, headers] of cases) {
    const answer = await infer(gw.url, 'ccfraud', body, headers);
    assert.equal(answer.status, 200);
    const line = gw.logs.filter((l) => l.msg === 'request').at(-1)!;
    assert.equal(typeof line.engineMs, 'number', JSON.stringify(line));
    reported.push(line.engineMs as number);
  }
  const metric = await gw.registry.getSingleMetric('wallaroo_gateway_engine_elapsed_seconds')!.get();
  const count = metric.values.find((v) => (v as { metricName?: string }).metricName === 'wallaroo_gateway_engine_elapsed_seconds_count');
  assert.equal(count?.value, 4);
  // The simulator's elapsed are real nanosecond timings of its parse and model steps: positive and small.
  for (const ms of reported) assert.ok(ms > 0 && ms < 1_000, `engine ms ${ms}`);
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
