import assert from 'node:assert/strict';
import { test } from 'node:test';
import { requestIdFrom } from '../../src/http/headers.ts';
import { GATEWAY_VERSION } from '../../src/http/version.ts';
import { callerResponseHeaders, connectionListed, upstreamRequestHeaders } from '../../src/proxy/headers.ts';

const base = { token: 'T', requestId: 'r1', contentType: 'application/json; format=pandas-records', accept: 'application/vnd.apache.arrow.file' };
const ours = { authorization: 'Bearer T', 'content-type': base.contentType, accept: base.accept, 'accept-encoding': 'identity', 'x-request-id': 'r1', 'user-agent': `wallaroo-gateway/${GATEWAY_VERSION}` };

test('hop-by-hop headers and those named in Connection are dropped (RFC 9110 7.6.1), trace context too when listed', () => {
  const out = upstreamRequestHeaders(
    { connection: 'close, X-Secret-Hop, tracestate', 'x-secret-hop': 'a', 'keep-alive': 'timeout=5', te: 'trailers', upgrade: 'h2c', 'transfer-encoding': 'chunked', trailer: 'x', 'proxy-connection': 'keep-alive', tracestate: 'a=b' },
    base,
  );
  assert.deepEqual(out, ours);
});

test("the caller's Authorization is replaced, never appended; cookies and forwarding claims are dropped", () => {
  const out = upstreamRequestHeaders(
    { authorization: 'Bearer caller', cookie: 'a=b', forwarded: 'for=1.2.3.4', 'x-forwarded-for': '1.2.3.4', 'x-forwarded-host': 'evil', 'x-real-ip': '1.2.3.4', host: 'gateway:8080', 'x-gateway-upstream-status': '200' },
    { ...base, contentLength: 12 },
  );
  assert.deepEqual(out, { ...ours, 'content-length': '12' });
});

test("Wallaroo's cookies, banners and hop-by-hop headers never reach the caller; errors are marked", () => {
  const out = callerResponseHeaders(
    { 'set-cookie': ['KC=1'], server: 'envoy', 'x-envoy-upstream-service-time': '3', connection: 'x-internal', 'x-internal': '1', 'content-type': 'application/json', 'retry-after': '3', 'content-length': '10' },
    { requestId: 'r1', upstreamStatus: 503 },
  );
  assert.deepEqual(out, { 'content-type': 'application/json', 'retry-after': '3', 'x-request-id': 'r1', 'x-gateway-upstream-status': '503' });
});

test('after a conversion, headers describing the upstream body (ETag, Content-Encoding, digests) are dropped', () => {
  const upstream = { etag: '"abc"', 'content-encoding': 'gzip', 'last-modified': 'x', digest: 'sha-256=x', 'content-md5': 'x', 'cache-control': 'no-store', 'content-type': 'application/json' };
  assert.deepEqual(callerResponseHeaders(upstream, { requestId: 'r1', upstreamStatus: 200, contentType: 'application/vnd.apache.arrow.file' }), {
    'cache-control': 'no-store', 'content-type': 'application/vnd.apache.arrow.file', 'x-request-id': 'r1',
  });
  // Passed through unconverted, they still describe the body and stay.
  assert.equal(callerResponseHeaders(upstream, { requestId: 'r1', upstreamStatus: 200 }).etag, '"abc"');
});

test('Connection lists are parsed case-insensitively across repeated headers', () => {
  assert.deepEqual([...connectionListed(['Keep-Alive, X-A', ' x-b ,'])], ['keep-alive', 'x-a', 'x-b']);
  assert.deepEqual([...connectionListed(undefined)], []);
});

test('an incoming request id is kept only when well formed', () => {
  assert.equal(requestIdFrom('abc-123_x.y:z'), 'abc-123_x.y:z');
  for (const bad of ['', 'has space', 'a'.repeat(129), 'x\ny', '-leading']) assert.match(requestIdFrom(bad), /^[0-9a-f-]{36}$/);
  assert.equal(requestIdFrom(['first', 'second']), 'first');
});

test("a caller's tracestate goes only with a valid traceparent (W3C Trace Context): malformed, absent or listed in Connection, it is dropped", () => {
  const traceparent = `00-${'a'.repeat(32)}-${'b'.repeat(16)}-01`;
  assert.deepEqual(upstreamRequestHeaders({ traceparent, tracestate: 'rojo=1' }, base), { ...ours, traceparent, tracestate: 'rojo=1' });
  assert.deepEqual(upstreamRequestHeaders({ traceparent: 'not-a-traceparent', tracestate: 'rojo=1' }, base), ours);
  // The right shape, but invalid (W3C 3.2): version ff, an all-zero trace-id, an all-zero parent-id.
  for (const invalid of [
    'ff-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
    '00-00000000000000000000000000000000-b7ad6b7169203331-01',
    '00-0af7651916cd43dd8448eb211c80319c-0000000000000000-01',
  ]) {
    assert.deepEqual(upstreamRequestHeaders({ traceparent: invalid, tracestate: 'rojo=1' }, base), ours, invalid);
  }
  assert.deepEqual(upstreamRequestHeaders({ tracestate: 'rojo=1' }, base), ours);
  assert.deepEqual(upstreamRequestHeaders({ connection: 'traceparent', traceparent, tracestate: 'rojo=1' }, base), ours);
});

test("Wallaroo's WWW-Authenticate (its challenge to the gateway) never reaches the caller", () => {
  const out = callerResponseHeaders(
    { 'www-authenticate': 'Bearer realm="wallaroo", error="invalid_token"', 'WWW-Authenticate': 'Basic', 'content-type': 'application/json' },
    { requestId: 'r1', upstreamStatus: 401 },
  );
  assert.deepEqual(out, { 'content-type': 'application/json', 'x-request-id': 'r1', 'x-gateway-upstream-status': '401' });
});
