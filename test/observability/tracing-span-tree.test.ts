import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ccfraudBody } from '../helpers/data.ts';
import { SERVER_WITHOUT_SHEDDING, simulatorConfig, startGateway } from '../helpers/gateway.ts';
import { infer } from '../helpers/http.ts';
import { SPAN_KIND, useOtlpReceiver } from '../helpers/otlp.ts';
import { useSimulator } from '../helpers/simulator.ts';
import { waitFor } from '../helpers/wait.ts';

const CALLER_TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const CALLER_SPAN = '00f067aa0ba902b7';

test("tracing: the caller's trace continues through a request span and an upstream span to Wallaroo, exported over OTLP/HTTP protobuf", async (t) => {
  const receiver = await useOtlpReceiver(t);
  const simulator = await useSimulator(t);
  const gw = await startGateway(t, simulatorConfig(simulator, {
    server: SERVER_WITHOUT_SHEDDING,
    pipelines: [{ name: 'ccfraud', workspace: 'demo' }],
    tracing: { enabled: true, endpoint: receiver.url, serviceName: 'gateway-under-test', exportIntervalMs: 20 },
    logging: { level: 'info' },
  }));
  await waitFor(() => gw.gateway.tokens.inference.hasValidToken(), 'the first token');
  const body = ccfraudBody(2);
  const answer = await infer(gw.url, 'ccfraud', body, {
    traceparent: `00-${CALLER_TRACE}-${CALLER_SPAN}-01`,
    tracestate: 'vendor=opaque-value',
    'user-agent': 'span-tree-test/1.0',
    'x-request-id': 'span-tree-1',
  });
  assert.equal(answer.status, 200);

  const spans = await receiver.waitFor((all) => all.some((s) => s.kind === SPAN_KIND.server) && all.some((s) => s.name === 'upstream') && all.length >= 5);
  // The request span and its phases: discovery (the first request resolves the URL), the body read, the wait for
  // a concurrency slot, and the call to Wallaroo. The token was already held, so no token phase.
  assert.deepEqual(spans.map((s) => s.name).filter((name) => !name.startsWith('POST ')).sort(), ['admission', 'body_read', 'discovery', 'upstream']);
  const requestSpan = spans.find((s) => s.kind === SPAN_KIND.server)!;
  for (const span of spans) if (span !== requestSpan) assert.equal(span.parentSpanId, requestSpan.spanId, `${span.name} is a child of the request span`);
  assert.ok(receiver.contentTypes.length > 0 && receiver.contentTypes.every((type) => type === 'application/x-protobuf'), receiver.contentTypes.join(', '));
  const request = spans.find((s) => s.kind === SPAN_KIND.server)!;
  const upstream = spans.find((s) => s.name === 'upstream')!;

  // The request span continues the caller's trace, with its tracestate.
  assert.equal(request.traceId, CALLER_TRACE);
  assert.equal(request.parentSpanId, CALLER_SPAN);
  assert.equal(request.traceState, 'vendor=opaque-value');
  assert.equal(request.name, 'POST /pipelines/:name/infer');
  assert.equal(request.resource['service.name'], 'gateway-under-test');
  assert.equal(request.scope, 'wallaroo-gateway');
  const engineMs = request.attributes['wallaroo.engine_elapsed_ms'];
  assert.ok(typeof engineMs === 'number' && engineMs > 0, `engine ms ${String(engineMs)}`);
  assert.deepEqual(request.attributes, {
    'http.request.method': 'POST',
    'http.route': '/pipelines/:name/infer',
    'url.path': '/pipelines/ccfraud/infer',
    'client.address': '127.0.0.1',
    'user_agent.original': 'span-tree-test/1.0',
    'gateway.request_id': 'span-tree-1',
    'http.response.status_code': 200,
    'wallaroo.pipeline': 'ccfraud',
    'gateway.upstream_status': 200,
    'wallaroo.engine_elapsed_ms': engineMs,
    'http.request.body.size': Buffer.byteLength(body),
    'http.response.body.size': answer.body.length,
  });
  assert.equal(request.status.code, 0);

  // The upstream call is the request span's child, with Wallaroo's status and engine time.
  assert.equal(upstream.kind, SPAN_KIND.client);
  assert.equal(upstream.traceId, CALLER_TRACE);
  assert.equal(upstream.parentSpanId, request.spanId);
  const inferenceUrl = new URL(simulator.control.inferenceUrl('ccfraud'));
  assert.deepEqual(upstream.attributes, {
    'http.request.method': 'POST',
    'server.address': '127.0.0.1',
    'server.port': Number(inferenceUrl.port),
    'url.path': inferenceUrl.pathname,
    'http.response.status_code': 200,
    'wallaroo.engine_elapsed_ms': engineMs,
  });
  assert.ok(upstream.startNanos >= request.startNanos && upstream.endNanos <= request.endNanos, 'the upstream span lies within the request span');

  // Wallaroo got a traceparent naming the upstream span, and the caller's tracestate.
  const seen = simulator.control.seen.at(-1)!;
  assert.equal(seen.headers.traceparent, `00-${CALLER_TRACE}-${upstream.spanId}-01`);
  assert.equal(seen.headers.tracestate, 'vendor=opaque-value');

  // The request log line carries the trace id.
  const line = gw.logs.find((l) => l.msg === 'request' && l.reqId === 'span-tree-1')!;
  assert.equal(line.traceId, CALLER_TRACE);
});
