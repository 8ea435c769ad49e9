import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ccfraudBody } from '../helpers/data.ts';
import { SERVER_WITHOUT_SHEDDING, simulatorConfig, startGateway, type TestGateway } from '../helpers/gateway.ts';
import { infer } from '../helpers/http.ts';
import { useOtlpReceiver } from '../helpers/otlp.ts';
import { useSimulator } from '../helpers/simulator.ts';
import type { Simulator } from '../../src/simulator/server.ts';

const TRACE = '0af7651916cd43dd8448eb211c80319c';
const SPAN = 'b7ad6b7169203331';
const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-(0[01])$/;

/** One inference with these headers; what Wallaroo received and the request's log line. */
async function traced(gw: TestGateway, simulator: Simulator, requestId: string, headers: Record<string, string>) {
  const answer = await infer(gw.url, 'ccfraud', ccfraudBody(), { 'x-request-id': requestId, ...headers });
  assert.equal(answer.status, 200, answer.text);
  const seen = simulator.control.seen.at(-1)!;
  const line = gw.logs.find((l) => l.msg === 'request' && l.reqId === requestId)!;
  return { traceparent: seen.headers.traceparent as string | undefined, tracestate: seen.headers.tracestate as string | undefined, logTraceId: line.traceId };
}

test("tracing off: a caller's well-formed traceparent and tracestate reach Wallaroo untouched (a malformed one is dropped), and the log line names the caller's trace", async (t) => {
  const simulator = await useSimulator(t);
  const gw = await startGateway(t, simulatorConfig(simulator, { server: SERVER_WITHOUT_SHEDDING, pipelines: [{ name: 'ccfraud', workspace: 'demo' }], logging: { level: 'info' } }));
  const sent = await traced(gw, simulator, 'off-1', { traceparent: `00-${TRACE}-${SPAN}-01`, tracestate: 'congo=t61rcWkgMzE,rojo=00f067aa0ba902b7' });
  assert.deepEqual(sent, { traceparent: `00-${TRACE}-${SPAN}-01`, tracestate: 'congo=t61rcWkgMzE,rojo=00f067aa0ba902b7', logTraceId: TRACE });

  const malformed = await traced(gw, simulator, 'off-2', { traceparent: 'not-a-traceparent' });
  // The header allow-list passes only well-formed trace context to Wallaroo (README, "headers toward Wallaroo").
  assert.deepEqual(malformed, { traceparent: undefined, tracestate: undefined, logTraceId: undefined });
  const none = await traced(gw, simulator, 'off-3', {});
  assert.deepEqual(none, { traceparent: undefined, tracestate: undefined, logTraceId: undefined });
});

test("tracing on: an unsampled caller's trace goes on unsampled through the gateway's span, a new request gets a new trace", async (t) => {
  const receiver = await useOtlpReceiver(t);
  const simulator = await useSimulator(t);
  const gw = await startGateway(t, simulatorConfig(simulator, {
    server: SERVER_WITHOUT_SHEDDING,
    pipelines: [{ name: 'ccfraud', workspace: 'demo' }],
    tracing: { enabled: true, endpoint: receiver.url, sampleRatio: 0, exportIntervalMs: 10 },
    logging: { level: 'info' },
  }));
  // The caller did not sample: the gateway follows, and names its own span as Wallaroo's parent.
  const unsampled = await traced(gw, simulator, 'on-1', { traceparent: `00-${TRACE}-${SPAN}-00`, tracestate: 'rojo=00f067aa0ba902b7' });
  const [, traceId, parentId, flags] = TRACEPARENT.exec(unsampled.traceparent ?? '') ?? [];
  assert.deepEqual({ traceId, flags, tracestate: unsampled.tracestate, logTraceId: unsampled.logTraceId }, { traceId: TRACE, flags: '00', tracestate: 'rojo=00f067aa0ba902b7', logTraceId: TRACE });
  assert.notEqual(parentId, SPAN);

  // No traceparent, sampleRatio 0: a fresh trace id, not sampled, in the header and the log line alike.
  const fresh = await traced(gw, simulator, 'on-2', {});
  const [, freshTrace, , freshFlags] = TRACEPARENT.exec(fresh.traceparent ?? '') ?? [];
  assert.ok(freshTrace && freshTrace !== TRACE);
  assert.equal(freshFlags, '00');
  assert.equal(fresh.logTraceId, freshTrace);
  assert.equal(fresh.tracestate, undefined);

  // A sampled caller is followed even at sampleRatio 0 (parent-based sampling): its spans are exported.
  const sampled = await traced(gw, simulator, 'on-3', { traceparent: `00-${TRACE}-${SPAN}-01` });
  assert.match(sampled.traceparent ?? '', new RegExp(`^00-${TRACE}-[0-9a-f]{16}-01$`));
  const spans = await receiver.waitFor((all) => all.some((s) => s.attributes['gateway.request_id'] === 'on-3'));
  assert.ok(spans.length >= 2, 'the request span and its children');
  assert.deepEqual(new Set(spans.map((s) => s.traceId)), new Set([TRACE]), 'only the sampled caller’s spans, all in its trace');
  assert.deepEqual(spans.map((s) => s.attributes['gateway.request_id']).filter(Boolean), ['on-3']);
});

test("tracing on: a malformed traceparent starts a new trace, and the caller's tracestate goes with it", async (t) => {
  const receiver = await useOtlpReceiver(t);
  const simulator = await useSimulator(t);
  const gw = await startGateway(t, simulatorConfig(simulator, {
    server: SERVER_WITHOUT_SHEDDING,
    pipelines: [{ name: 'ccfraud', workspace: 'demo' }],
    tracing: { enabled: true, endpoint: receiver.url, exportIntervalMs: 10 },
    logging: { level: 'info' },
  }));
  const sent = await traced(gw, simulator, 'bad-1', { traceparent: `00-${'0'.repeat(32)}-${SPAN}-01`, tracestate: 'rojo=00f067aa0ba902b7' });
  const [, traceId, , flags] = TRACEPARENT.exec(sent.traceparent ?? '') ?? [];
  assert.ok(traceId && traceId !== '0'.repeat(32), sent.traceparent);
  assert.equal(flags, '01');
  assert.equal(sent.tracestate, undefined);
  assert.equal(sent.logTraceId, traceId);
  const spans = await receiver.waitFor((all) => all.some((s) => s.attributes['gateway.request_id'] === 'bad-1'));
  assert.ok(spans.every((s) => s.traceId === traceId));
  assert.equal(spans.find((s) => s.attributes['gateway.request_id'] === 'bad-1')?.parentSpanId, '', 'a root span');
});
