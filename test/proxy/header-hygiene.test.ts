import assert from 'node:assert/strict';
import { test } from 'node:test';
import { requestIdFrom } from '../../src/http/headers.ts';
import { callerResponseHeaders, connectionListed, upstreamRequestHeaders } from '../../src/proxy/headers.ts';

const base = { token: 'T', requestId: 'r1', contentType: 'application/json; format=pandas-records', accept: 'application/vnd.apache.arrow.file' };

test('hop-by-hop headers and those named in Connection are dropped (RFC 9110 7.6.1)', () => {
  const out = upstreamRequestHeaders(
    { connection: 'close, X-Secret-Hop', 'x-secret-hop': 'a', 'keep-alive': 'timeout=5', te: 'trailers', upgrade: 'h2c', 'transfer-encoding': 'chunked', trailer: 'x', 'proxy-connection': 'keep-alive', 'x-ok': 'yes' },
    base,
  );
  assert.deepEqual(out, { 'x-ok': 'yes', authorization: 'Bearer T', 'content-type': base.contentType, accept: base.accept, 'x-request-id': 'r1' });
});

test("the caller's Authorization is replaced, never appended; cookies and forwarding claims are dropped", () => {
  const out = upstreamRequestHeaders(
    { authorization: 'Bearer caller', cookie: 'a=b', forwarded: 'for=1.2.3.4', 'x-forwarded-for': '1.2.3.4', 'x-forwarded-host': 'evil', 'x-real-ip': '1.2.3.4', host: 'gateway:8080', 'x-gateway-upstream-status': '200' },
    { ...base, contentLength: 12 },
  );
  assert.deepEqual(out, { authorization: 'Bearer T', 'content-type': base.contentType, accept: base.accept, 'x-request-id': 'r1', 'content-length': '12' });
});

test("Wallaroo's cookies, banners and hop-by-hop headers never reach the caller; errors are marked", () => {
  const out = callerResponseHeaders(
    { 'set-cookie': ['KC=1'], server: 'envoy', 'x-envoy-upstream-service-time': '3', connection: 'x-internal', 'x-internal': '1', 'content-type': 'application/json', 'retry-after': '3', 'content-length': '10' },
    { requestId: 'r1', upstreamStatus: 503 },
  );
  assert.deepEqual(out, { 'content-type': 'application/json', 'retry-after': '3', 'x-request-id': 'r1', 'x-gateway-upstream-status': '503' });
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
