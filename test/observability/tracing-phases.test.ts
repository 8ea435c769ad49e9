import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { TracingConfig } from '../../src/config/types.ts';
import pino from 'pino';
import { Registry } from 'prom-client';
import { GatewayError } from '../../src/errors.ts';
import { createMetrics } from '../../src/observability/metrics.ts';
import { createTracing } from '../../src/observability/tracing-setup.ts';
import type { Tracing, TracingDeps } from '../../src/observability/tracing.ts';
import { SPAN_KIND, STATUS_ERROR, useOtlpReceiver } from '../helpers/otlp.ts';

const CONFIG: Omit<TracingConfig, 'endpoint'> = {
  enabled: true, serviceName: 'phases-test', sampleRatio: 1, maxQueueSize: 64, maxExportBatchSize: 64, exportIntervalMs: 10, exportTimeoutMs: 5_000,
};
const DEPS: TracingDeps = { version: '9.9.9', metrics: createMetrics(new Registry(), { defaultMetrics: false }), logger: pino({ level: 'silent' }) };

async function tracingTo(endpoint: string): Promise<Tracing> {
  const tracing = await createTracing({ ...CONFIG, endpoint }, DEPS);
  assert.ok(tracing);
  return tracing;
}

test('tracing API: phases are children of the request span, a failed phase and the request carry the error, the upstream span carries the engine time', async (t) => {
  const receiver = await useOtlpReceiver(t);
  const tracing = await tracingTo(receiver.url);
  t.after(() => tracing.shutdown());

  const trace = tracing.startRequest({
    method: 'POST', route: '/pipelines/:name/infer', path: '/pipelines/churn/infer', clientAddress: '10.1.2.3', userAgent: undefined, requestId: 'phases-1', headers: {},
  });
  assert.match(trace.traceId ?? '', /^[0-9a-f]{32}$/);
  assert.equal(await trace.phase('rate_limit', async () => 'allowed'), 'allowed');
  assert.equal(await trace.phase('token', async () => 'a-token'), 'a-token');
  await assert.rejects(trace.phase('discovery', async () => {
    throw new GatewayError('GW_DISCOVERY_FAILED', 'the MLOps API answered 500');
  }), { code: 'GW_DISCOVERY_FAILED' });
  trace.startPhase('conversion').set('gateway.rows', 3).end();
  const upstream = trace.startUpstream(new URL('https://wallaroo.example.com:8443/v1/api/pipelines/infer/churn-7/churn?dataset[]=out'));
  const headers: Record<string, string> = { tracestate: 'stale=1' };
  upstream.inject(headers);
  upstream.set('http.response.status_code', 503).end();
  trace.finish({ statusCode: 503, pipeline: 'churn', upstreamStatus: 503, engineMs: 1.5 });
  trace.finish({ statusCode: 200 }); // once only: a second finish changes nothing

  const spans = await receiver.waitFor((all) => all.length >= 6);
  assert.equal(spans.length, 6);
  const byName = new Map(spans.map((s) => [s.name, s]));
  const request = byName.get('POST /pipelines/:name/infer')!;
  assert.equal(request.kind, SPAN_KIND.server);
  assert.equal(request.parentSpanId, '');
  assert.equal(request.traceId, trace.traceId);
  assert.equal(request.resource['service.name'], 'phases-test');
  assert.equal(request.resource['service.version'], '9.9.9');
  assert.deepEqual(request.status, { code: STATUS_ERROR, message: '' });
  assert.equal(request.attributes['error.type'], '503');
  assert.equal(request.attributes['http.response.status_code'], 503);
  assert.equal(request.attributes['client.address'], '10.1.2.3');

  for (const name of ['rate_limit', 'token', 'discovery', 'conversion', 'upstream']) {
    const span = byName.get(name);
    assert.ok(span, name);
    assert.equal(span.parentSpanId, request.spanId, name);
    assert.equal(span.traceId, request.traceId, name);
    assert.ok(span.startNanos >= request.startNanos && span.endNanos <= request.endNanos, `${name} within the request`);
    assert.equal(span.kind, name === 'upstream' ? SPAN_KIND.client : SPAN_KIND.internal, name);
  }
  assert.deepEqual(byName.get('discovery')!.status, { code: STATUS_ERROR, message: '' });
  assert.equal(byName.get('discovery')!.attributes['error.type'], 'GW_DISCOVERY_FAILED');
  assert.equal(byName.get('token')!.status.code, 0);
  assert.deepEqual(byName.get('conversion')!.attributes, { 'gateway.rows': 3 });
  const upstreamSpan = byName.get('upstream')!;
  assert.deepEqual(upstreamSpan.attributes, {
    'http.request.method': 'POST',
    'server.address': 'wallaroo.example.com',
    'server.port': 8443,
    'url.path': '/v1/api/pipelines/infer/churn-7/churn',
    'http.response.status_code': 503,
    'wallaroo.engine_elapsed_ms': 1.5,
  });
  // The header names the upstream span; the stale tracestate is not passed on with a traceparent it does not belong to.
  assert.deepEqual(headers, { traceparent: `00-${request.traceId}-${upstreamSpan.spanId}-01` });
});

test('tracing API: a request whose caller leaves ends its span as caller_closed', async (t) => {
  const receiver = await useOtlpReceiver(t);
  const tracing = await tracingTo(receiver.url);
  t.after(() => tracing.shutdown());
  const trace = tracing.startRequest({ method: 'POST', route: '/pipelines/:name/infer', path: '/pipelines/x/infer', clientAddress: '127.0.0.1', userAgent: 'ua', requestId: 'gone-1', headers: {} });
  trace.finish({ statusCode: 200, pipeline: 'x', abandoned: true });
  const [span] = await receiver.waitFor((all) => all.length >= 1);
  assert.deepEqual(span!.status, { code: STATUS_ERROR, message: '' });
  assert.equal(span!.attributes['error.type'], 'caller_closed');
});
