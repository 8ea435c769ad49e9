import assert from 'node:assert/strict';
import { test } from 'node:test';
import { GATEWAY_VERSION } from '../../src/http/version.ts';
import { upstreamRequestHeaders } from '../../src/proxy/headers.ts';

// F13: Wallaroo's ingress is Envoy, which obeys x-envoy-* from whoever sends them and trusts the forwarding family.
// Only the allow-list reaches Wallaroo: the gateway's own token, content and accept headers, request id and user
// agent, the caller's W3C trace context (well formed) and the body's Content-Encoding.
const HOSTILE: Record<string, string> = {
  'x-envoy-max-retries': '10',
  'x-envoy-upstream-rq-timeout-ms': '1',
  'x-envoy-retry-on': '5xx',
  'x-envoy-force-trace': 'true',
  'x-forwarded-client-cert': 'By=spiffe://cluster/ns/admin/sa/root',
  'x-forwarded-prefix': '/admin',
  'x-forwarded-uri': '/v1/api/admin',
  'x-forwarded-server': 'evil',
  'x-forwarded-scheme': 'https',
  'x-forwarded-for': '10.0.0.1',
  'x-forwarded-host': 'wallaroo.internal',
  'x-forwarded-proto': 'https',
  'x-forwarded-port': '443',
  forwarded: 'for=10.0.0.1',
  via: '1.1 trusted-proxy',
  'true-client-ip': '10.0.0.1',
  'x-client-ip': '10.0.0.1',
  'cf-connecting-ip': '10.0.0.1',
  'x-real-ip': '10.0.0.1',
  'x-original-url': '/v1/api/admin/delete',
  'x-rewrite-url': '/v1/api/admin/delete',
  'x-http-method-override': 'DELETE',
  'x-method-override': 'DELETE',
  authorization: 'Bearer caller',
  'proxy-authorization': 'Basic eA==',
  cookie: 'session=1',
  host: 'wallaroo.internal',
  expect: '100-continue',
  'accept-encoding': 'gzip',
  'user-agent': 'curl/8',
  'x-anything-else': 'dropped',
};

test('the forwarding, proxy and Envoy header family never reaches Wallaroo: an allow-list, not a deny-list', () => {
  const out = upstreamRequestHeaders(
    { ...HOSTILE, traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01', tracestate: 'vendor=1', 'content-encoding': 'gzip' },
    { token: 'T', requestId: 'r1', contentType: 'application/json', accept: 'application/json', contentLength: 2 },
  );
  assert.deepEqual(out, {
    authorization: 'Bearer T',
    'content-type': 'application/json',
    accept: 'application/json',
    'accept-encoding': 'identity',
    'x-request-id': 'r1',
    'user-agent': `wallaroo-gateway/${GATEWAY_VERSION}`,
    'content-length': '2',
    traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
    tracestate: 'vendor=1',
    'content-encoding': 'gzip',
  });
});

test('a malformed traceparent or an oversized tracestate is dropped, not forwarded', () => {
  const out = upstreamRequestHeaders(
    { traceparent: '00-not-a-trace\r\nx-envoy-max-retries: 9', tracestate: 'x'.repeat(600) },
    { token: 'T', requestId: 'r1', contentType: 'application/json', accept: 'application/json' },
  );
  assert.equal(out.traceparent, undefined);
  assert.equal(out.tracestate, undefined);
});
