import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SERVER_WITHOUT_SHEDDING, simulatorConfig, startGateway } from '../helpers/gateway.ts';
import { call } from '../helpers/http.ts';
import { useSimulator } from '../helpers/simulator.ts';

test('GET /: a self-contained page (inline script and style allowed by hash only, nothing fetched from elsewhere)', async (t) => {
  const simulator = await useSimulator(t);
  const gw = await startGateway(t, simulatorConfig(simulator, { server: SERVER_WITHOUT_SHEDDING }));
  const page = await call(`${gw.url}/`);
  assert.equal(page.status, 200);
  assert.equal(page.headers['content-type'], 'text/html; charset=utf-8');
  assert.equal(page.headers['x-content-type-options'], 'nosniff');
  const csp = String(page.headers['content-security-policy']);
  assert.match(csp, /^default-src 'none'; style-src 'sha256-[A-Za-z0-9+/]+=*'; script-src 'sha256-[A-Za-z0-9+/]+=*'; connect-src 'self';/);
  assert.match(csp, /frame-ancestors 'none'/);
  assert.doesNotMatch(page.text, /(src|href)\s*=\s*"(https?:)?\/\//, 'no external assets');
  assert.match(page.text, /<a href="docs\/">API docs<\/a>/);
});

test('ui.enabled: false removes the status page and Swagger UI; ui.port: metrics moves the page to the metrics listener', async (t) => {
  const simulator = await useSimulator(t);
  const off = await startGateway(t, simulatorConfig(simulator, { server: SERVER_WITHOUT_SHEDDING, ui: { enabled: false } }));
  for (const path of ['/', '/status.json', '/docs', '/docs/static/swagger-ui-bundle.js']) {
    const answer = await call(`${off.url}${path}`);
    assert.equal(answer.status, 404, path);
    assert.equal(answer.json<{ code: string }>().code, 'GW_ROUTE_NOT_FOUND');
  }

  const moved = await startGateway(t, simulatorConfig(simulator, { server: SERVER_WITHOUT_SHEDDING, ui: { port: 'metrics' }, metrics: { port: 0, host: '127.0.0.1' } }));
  assert.equal((await call(`${moved.url}/`)).status, 404);
  assert.equal((await call(`${moved.url}/status.json`)).status, 404);
  const page = await call(`${moved.metricsUrl}/`);
  assert.equal(page.status, 200);
  assert.doesNotMatch(page.text, /API docs/, 'no links to routes the metrics listener does not serve');
  assert.equal((await call(`${moved.metricsUrl}/status.json`)).json<{ pipelines: unknown[] }>().pipelines.length, 3);
  // Swagger UI stays beside the routes its "Try it out" calls.
  assert.equal((await call(`${moved.url}/docs/`)).status, 200);
});
