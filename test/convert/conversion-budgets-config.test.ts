import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseConfig } from '../../src/config/load.ts';
import { ccfraudBody, sample } from '../helpers/data.ts';
import { simulatorConfig, startGateway } from '../helpers/gateway.ts';
import { ARROW_FILE, call, infer } from '../helpers/http.ts';
import { useSimulator } from '../helpers/simulator.ts';

// The budgets are config (conversion.*, server.openAiBodyLimit), so an operator can move them; the gateway
// enforces exactly what is configured. (Load shedding is off here: on a loaded machine a gateway that just
// started may shed its first request, which is not what these tests look at.)

test('conversion.* and server.openAiBodyLimit set the budgets the gateway enforces', async (t) => {
  const simulator = await useSimulator(t);
  const gw = await startGateway(t, simulatorConfig(simulator, {
    server: { host: '127.0.0.1', port: 0, openAiBodyLimit: '2KiB', maxEventLoopDelayMs: 0 },
    conversion: { maxColumns: 2, maxJsonDepth: 4, maxElements: 100, maxOutputBytes: '2KiB' },
    pipelines: [
      { name: 'toArrow', workspace: 'demo', pipeline: 'summary', upstreamFormat: 'arrow' },
      { name: 'toJson', workspace: 'demo', pipeline: 'summary', upstreamFormat: 'json' },
      { name: 'llm', workspace: 'demo' },
    ],
  }));
  const refused = async (answer: Promise<{ status: number; json<T>(): T }>, status: number, message: string) => {
    const { status: got, json } = await answer;
    assert.equal(got, status, message);
    assert.equal(json<{ message: string }>().message, message);
  };
  await refused(infer(gw.url, 'toArrow', '[{"a":1,"b":2,"c":3}]'), 413, 'the JSON has an object of more than 2 keys (conversion.maxColumns)');
  await refused(infer(gw.url, 'toArrow', '[{"a":[[[1]]]}]'), 400, 'the JSON nests deeper than 4 levels (conversion.maxJsonDepth)');
  const rows = ccfraudBody(4);
  await refused(infer(gw.url, 'toArrow', rows), 413, `column "tensor" (list items) would take the body past 100 values (a ${rows.length}-byte body may hold 8 per byte, at most conversion.maxElements = 100)`);
  const arrow = sample('cc_data_1k.arrow');
  await refused(infer(gw.url, 'toJson', arrow, { 'content-type': ARROW_FILE }), 413, `the rows of the Arrow IPC body would take the body past 100 values (a ${arrow.length}-byte body may hold 8 per byte, at most conversion.maxElements = 100)`);
  const completion = JSON.stringify({ model: 'm', prompt: 'x'.repeat(3_000) });
  await refused(call(`${gw.url}/pipelines/llm/openai/v1/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: completion }), 413, `the body is ${completion.length} bytes; the limit is 2048`);
  assert.equal((await infer(gw.url, 'toArrow', '[{"a":1,"b":2}]')).status, 200, 'within every budget');
  assert.equal(simulator.control.counts.inference, 1);
});

test('conversion.maxOutputBytes caps what a conversion may write', async (t) => {
  const simulator = await useSimulator(t);
  const gw = await startGateway(t, simulatorConfig(simulator, {
    server: { host: '127.0.0.1', port: 0, maxEventLoopDelayMs: 0 },
    conversion: { maxOutputBytes: 1000 },
    pipelines: [{ name: 'toJson', workspace: 'demo', pipeline: 'summary', upstreamFormat: 'json' }],
  }));
  const arrow = sample('cc_data_1k.arrow');
  const answer = await infer(gw.url, 'toJson', arrow, { 'content-type': ARROW_FILE });
  assert.equal(answer.status, 413);
  assert.equal(answer.json<{ message: string }>().message, `the JSON text would write more than 1000 bytes (a ${arrow.length}-byte body may produce 16 per byte, at most conversion.maxOutputBytes = 1000)`);
});

test('bad conversion budgets are config problems with their paths', () => {
  assert.throws(
    () => parseConfig({
      wallaroo: { url: 'https://w.example.com', auth: { clientSecret: 's' } },
      pipelines: [{ name: 'p', workspace: 'w' }],
      server: { openAiBodyLimit: 'lots' },
      conversion: { maxColumns: 0, maxJsonDepth: 1, maxElements: -5, colour: 'red' },
    }, {}),
    (error: Error & { problems?: Array<{ path: string }> }) => {
      const paths = (error.problems ?? []).map((p) => p.path).sort();
      assert.deepEqual(paths, ['conversion.colour', 'conversion.maxColumns', 'conversion.maxElements', 'conversion.maxJsonDepth', 'server.openAiBodyLimit']);
      return true;
    },
  );
});
