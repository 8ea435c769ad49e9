import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEMO_PIPELINES, DEMO_ROW } from '../../src/cli/serve.ts';
import { ccfraudScore } from '../../src/simulator/models.ts';
import { screenshotPath, useBrowserPage } from '../helpers/browser.ts';
import { SERVER_WITHOUT_SHEDDING, simulatorConfig, startGateway } from '../helpers/gateway.ts';
import { readyStatus } from '../helpers/http.ts';
import { useSimulator } from '../helpers/simulator.ts';

const WAIT = { timeout: 30_000 };

test('Swagger UI in Chromium: "Try it out" on the ccfraud document sends the demo tensor through the gateway and shows the prediction', async (t) => {
  const simulator = await useSimulator(t);
  const gw = await startGateway(t, simulatorConfig(simulator, { server: SERVER_WITHOUT_SHEDDING, pipelines: DEMO_PIPELINES }));
  assert.equal(await readyStatus(gw.url, 100, 50), 200);
  const { page, errors } = await useBrowserPage(t, { width: 1280, height: 900 });

  await page.goto(`${gw.url}/docs/`);
  const select = page.locator('.topbar select');
  await select.waitFor(WAIT);
  assert.deepEqual(await select.locator('option').allInnerTexts(), ['gateway', 'pipeline ccfraud', 'pipeline summary', 'pipeline llm']);
  await page.locator('.info .title', { hasText: 'wallaroo-gateway' }).waitFor(WAIT);
  await select.selectOption({ label: 'pipeline ccfraud' });
  const operation = page.locator('#operations-default-infer_ccfraud');
  await operation.waitFor(WAIT);
  await operation.locator('.opblock-summary').click();
  await operation.getByRole('button', { name: 'Try it out' }).click();
  const body = operation.locator('textarea.body-param__text');
  await body.waitFor(WAIT);
  assert.deepEqual(JSON.parse(await body.inputValue()), [{ tensor: DEMO_ROW }], 'the example body is the demo tensor');
  // Ask for the model output only (dataset[]=out, passed to Wallaroo as is), so the answer shows the prediction.
  await operation.locator('tr[data-param-name="dataset[]"] button', { hasText: 'Add string item' }).click();
  await operation.locator('tr[data-param-name="dataset[]"] input[type="text"]').fill('out');

  const before = simulator.control.counts.inference;
  await operation.getByRole('button', { name: 'Execute' }).click();
  const response = operation.locator('.live-responses-table .response');
  await response.locator('.response-col_status', { hasText: '200' }).waitFor(WAIT);
  const answer = JSON.parse(await response.locator('.response-col_description pre.microlight, .response-col_description .highlight-code pre').first().innerText()) as Array<{ out: { dense_1: number[] } }>;
  // dense_1 is float32, written in its shortest form as Wallaroo does: compared as float32.
  assert.deepEqual(answer.map((row) => ({ out: { dense_1: row.out.dense_1.map(Math.fround) } })), [{ out: { dense_1: [ccfraudScore(DEMO_ROW)] } }], "the model's score of the demo tensor, and nothing else");
  assert.equal(simulator.control.counts.inference, before + 1, 'a real inference reached Wallaroo through the gateway');
  const sent = simulator.control.seen.at(-1)!;
  assert.equal(sent.headers['content-type'], 'application/json; format=pandas-records');
  assert.equal(sent.url.split('?')[1], 'dataset%5B%5D=out');

  // The picture: from the operation's title to the end of the live response, in page coordinates.
  const scrollY = await page.evaluate(() => (globalThis as { scrollY?: number }).scrollY ?? 0);
  const from = (await operation.boundingBox())!;
  const to = (await response.boundingBox())!;
  await page.screenshot({
    path: screenshotPath('swagger-try-it.png'),
    fullPage: true,
    clip: { x: from.x, y: from.y + scrollY, width: from.width, height: to.y + to.height - from.y + 8 },
  });
  assert.deepEqual(errors, [], 'no script errors and no Content-Security-Policy refusals');
});
