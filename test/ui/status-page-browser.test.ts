import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEMO_PIPELINES } from '../../src/cli/serve.ts';
import { screenshotPath, useBrowserPage } from '../helpers/browser.ts';
import { ccfraudBody } from '../helpers/data.ts';
import { SERVER_WITHOUT_SHEDDING, simulatorConfig, startGateway } from '../helpers/gateway.ts';
import { infer, readyStatus } from '../helpers/http.ts';
import { useSimulator } from '../helpers/simulator.ts';

const WAIT = { timeout: 30_000 };

test('status page in Chromium: the demo pipelines with live numbers that change after traffic, then an open breaker after failures', async (t) => {
  const simulator = await useSimulator(t);
  // The demo's pipelines; a long cool-down so the open breaker is still open when the page next refreshes.
  const pipelines = DEMO_PIPELINES.map((p) => ({ ...p, circuitBreaker: { failureThreshold: 3, cooldownMs: 120_000 } }));
  const gw = await startGateway(t, simulatorConfig(simulator, { server: SERVER_WITHOUT_SHEDDING, pipelines }));
  assert.equal(await readyStatus(gw.url, 100, 50), 200);
  const { page, errors } = await useBrowserPage(t, { width: 1400, height: 560 });

  await page.goto(`${gw.url}/`);
  const cell = (pipeline: string, field: string, hasText?: RegExp) =>
    page.locator(`tr[data-pipeline="${pipeline}"] [data-field="${field}"]`, hasText ? { hasText } : {});
  await cell('ccfraud', 'requests').waitFor(WAIT);
  assert.deepEqual(await page.locator('tr[data-pipeline] [data-field="name"]').allInnerTexts(), ['ccfraud\ndemo / ccfraud', 'summary\ndemo / summary', 'llm\ndemo / llm']);
  assert.equal(await cell('ccfraud', 'requests').textContent(), '0');
  assert.equal(await cell('ccfraud', 'breaker').textContent(), 'closed');
  assert.equal(await page.locator('tr[data-token="inference"] [data-field="valid"]').textContent(), 'valid');

  // Traffic: the page's next refreshes show the counts, a rate, latency and the resolved host.
  for (let i = 0; i < 4; i++) assert.equal((await infer(gw.url, 'ccfraud', ccfraudBody())).status, 200);
  assert.equal((await infer(gw.url, 'summary', '[{"amount":1.5}]')).status, 200);
  // Waits are Playwright locators (the page's CSP refuses evaluated strings, and functions compiled by tsx
  // carry a helper the page does not have).
  await cell('ccfraud', 'requests', /^4$/).waitFor(WAIT);
  await cell('ccfraud', 'rate', /^\d+\.\d+\/s\d+ requests/).waitFor(WAIT);
  await cell('ccfraud', 'p50', / ms$/).waitFor(WAIT);
  await cell('ccfraud', 'engine', / ms$/).waitFor(WAIT);
  assert.equal(await cell('summary', 'requests').textContent(), '1');
  assert.match(await cell('ccfraud', 'host').textContent() ?? '', /^127\.0\.0\.1:\d+resolved /);
  assert.equal(await cell('ccfraud', 'queue').textContent(), '0 / 256');
  assert.equal(await cell('ccfraud', 'lastError').textContent(), 'none');

  // Failures: Wallaroo answers 500 three times, the breaker opens and the next request fails fast.
  simulator.control.failInference(3, { status: 500 });
  for (let i = 0; i < 3; i++) assert.equal((await infer(gw.url, 'ccfraud', ccfraudBody())).status, 500);
  assert.equal((await infer(gw.url, 'ccfraud', ccfraudBody())).status, 503);
  await cell('ccfraud', 'breaker', /^open$/).waitFor(WAIT);
  assert.equal(await cell('ccfraud', 'breaker').locator('.badge').getAttribute('class'), 'badge bad');
  assert.match(await cell('ccfraud', 'lastError').textContent() ?? '', /^GW_CIRCUIT_OPEN: pipeline ccfraud: Wallaroo failed 3 times in a row/);
  assert.equal(await cell('ccfraud', 'requests').textContent(), '8');
  assert.equal(await cell('summary', 'breaker').textContent(), 'closed');

  // biome-ignore lint/performance/useDomNodeTextContent: the test reads what a user sees, as rendered
  const text = await page.locator('body').innerText();
  for (const token of simulator.control.issuedTokens) assert.ok(!text.includes(token), 'a token on the page');
  await page.screenshot({ path: screenshotPath('status-page.png'), fullPage: true });
  assert.deepEqual(errors, [], 'no script errors and no Content-Security-Policy refusals');
});
