import assert from 'node:assert/strict';
import { test } from 'node:test';
import { simulatorConfig, startGateway } from '../helpers/gateway.ts';
import { call } from '../helpers/http.ts';
import { jsonBodyOf, rawExchange, statusOf } from '../helpers/raw-http.ts';
import { useSimulator } from '../helpers/simulator.ts';

// Issue 15, F14: GET on an inference route was a 404 though 405 GW_METHOD_NOT_ALLOWED is documented.

test('a wrong method on the POST routes is 405 GW_METHOD_NOT_ALLOWED with Allow: POST', async (t) => {
  const simulator = await useSimulator(t);
  const gateway = await startGateway(t, simulatorConfig(simulator));
  for (const path of ['/pipelines/ccfraud/infer', '/pipelines/ccfraud/openai/v1/chat/completions']) {
    const answer = await call(`${gateway.url}${path}`, { method: 'GET' });
    assert.equal(answer.status, 405, path);
    assert.equal(answer.headers.allow, 'POST', path);
    assert.deepEqual(answer.json(), { statusCode: 405, code: 'GW_METHOD_NOT_ALLOWED', error: 'Method Not Allowed', message: 'GET is not allowed here; use POST' }, path);
  }
});

// Hostile review: TRACE, PROPFIND, SEARCH (any method Node parses that no route registers) were 404
// GW_ROUTE_NOT_FOUND on the POST routes, and CONNECT got no answer at all (Node destroys the socket when nothing
// listens for 'connect').

const exchange = (url: string, method: string, path: string) =>
  rawExchange(url, [`${method} ${path} HTTP/1.1\r\nHost: gw\r\nContent-Length: 0\r\n\r\n`], { waitMs: 10_000, untilAnswer: true });

test('every method Node parses, CONNECT included, on a POST route is 405 GW_METHOD_NOT_ALLOWED with Allow: POST', async (t) => {
  const simulator = await useSimulator(t);
  const gateway = await startGateway(t, simulatorConfig(simulator, { metrics: { port: 0 } }));
  for (const method of ['TRACE', 'PROPFIND', 'SEARCH', 'MKCOL', 'PURGE', 'CONNECT']) {
    for (const path of ['/pipelines/p/infer', '/pipelines/ccfraud/openai/v1/completions']) {
      const { text } = await exchange(gateway.url, method, path);
      assert.equal(statusOf(text), 405, `${method} ${path}: ${text}`);
      assert.match(text, /\r\nallow: POST\r\n/i, `${method} ${path}`);
      assert.deepEqual(jsonBodyOf(text), { statusCode: 405, code: 'GW_METHOD_NOT_ALLOWED', error: 'Method Not Allowed', message: `${method} is not allowed here; use POST` });
    }
  }
  // CONNECT closes the connection (what follows it is not HTTP the gateway reads), on either listener.
  const connect = await exchange(gateway.url, 'CONNECT', '/pipelines/p/infer');
  assert.match(connect.text, /\r\nconnection: close\r\n/i);
  const metrics = await exchange(gateway.metricsUrl!, 'CONNECT', '/metrics');
  assert.equal(statusOf(metrics.text), 405);
  assert.match(metrics.text, /\r\nallow: GET, HEAD\r\n/i);
  assert.match(metrics.text, /\r\nconnection: close\r\n/i);
  assert.equal(jsonBodyOf(metrics.text).code, 'GW_METHOD_NOT_ALLOWED');
  // The path as the router reads it: percent-escapes decoded, a fragment or the absolute form do not hide it.
  for (const target of ['/pipelines/p/%69nfer', '/pipelines/p/infer#f', 'http://gw/pipelines/p/infer']) {
    const { text } = await exchange(gateway.url, 'GET', target);
    assert.equal(statusOf(text), 405, `GET ${target}: ${text}`);
    assert.match(text, /\r\nallow: POST\r\n/i, target);
  }
  // A path no route has is still 404, whatever the method.
  const unknown = await exchange(gateway.url, 'PROPFIND', '/nowhere');
  assert.equal(statusOf(unknown.text), 404);
  assert.equal(jsonBodyOf(unknown.text).code, 'GW_ROUTE_NOT_FOUND');
  const unknownConnect = await exchange(gateway.url, 'CONNECT', 'example.com:443');
  assert.equal(statusOf(unknownConnect.text), 404);
  assert.equal(jsonBodyOf(unknownConnect.text).code, 'GW_ROUTE_NOT_FOUND');
});
