import assert from 'node:assert/strict';
import { test } from 'node:test';
import { simulatorConfig, startGateway } from '../helpers/gateway.ts';
import { jsonBodyOf, rawExchange, statusOf } from '../helpers/raw-http.ts';
import { useSimulator } from '../helpers/simulator.ts';

// Hostile review: `GET *` (the asterisk form, which Node parses for any method) was routed to `/` and answered
// with the status page; the router reads `*` as the root. No route takes it: 404 GW_ROUTE_NOT_FOUND, on either
// listener, while `GET /` still serves the page.

// Connection: close ends each exchange with the answer, also HEAD's (whose Content-Length no body follows).
const exchange = (url: string, method: string, target: string) =>
  rawExchange(url, [`${method} ${target} HTTP/1.1\r\nHost: gw\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`], { waitMs: 10_000, untilAnswer: true });

test('a request for the asterisk target is 404 GW_ROUTE_NOT_FOUND, not the status page', async (t) => {
  const simulator = await useSimulator(t);
  const gateway = await startGateway(t, simulatorConfig(simulator, { metrics: { port: 0 } }));
  for (const url of [gateway.url, gateway.metricsUrl!]) {
    for (const method of ['GET', 'HEAD', 'OPTIONS', 'POST']) {
      const { text } = await exchange(url, method, '*');
      assert.equal(statusOf(text), 404, `${method} * on ${url}: ${text.slice(0, 200)}`);
      assert.doesNotMatch(text, /text\/html/, `${method} * on ${url}`);
      if (method !== 'HEAD') assert.equal(jsonBodyOf(text).code, 'GW_ROUTE_NOT_FOUND', `${method} * on ${url}`);
    }
  }
  const page = await exchange(gateway.url, 'GET', '/');
  assert.equal(statusOf(page.text), 200);
  assert.match(page.text, /content-type: text\/html/i);
});
