import assert from 'node:assert/strict';
import { test } from 'node:test';
import { simulatorConfig, startGateway } from '../helpers/gateway.ts';
import { call, infer } from '../helpers/http.ts';
import { assertRefusedResponsively, watchGateway } from '../helpers/responsiveness.ts';
import { useSimulator } from '../helpers/simulator.ts';

// Issue 15, F2: `[[[...]]]` was parsed whole before its depth was looked at: 60 MB took 2.9 GB and 14 s. Depth is
// now checked by a scan of the text before JSON.parse, on the OpenAI routes and the conversion routes alike.
const TOO_DEEP = {
  statusCode: 400, code: 'GW_JSON_TOO_DEEP', message: 'the JSON nests deeper than 32 levels (conversion.maxJsonDepth)',
};

test('deeply nested JSON is refused with 400 before it is parsed: on the OpenAI routes and on conversion routes', async (t) => {
  // The OpenAI-compatible endpoints exist from Wallaroo 2025 on, whatever version the suite runs against.
  const simulator = await useSimulator(t, { version: '2025' });
  const gw = await startGateway(t, simulatorConfig(simulator, {
    server: { host: '127.0.0.1', port: 0, maxEventLoopDelayMs: 0 },
    pipelines: [{ name: 'llm', workspace: 'demo' }, { name: 'summary', workspace: 'demo', upstreamFormat: 'arrow' }],
  }));
  const bodyLimit = gw.config.server.bodyLimit;

  // Just under the OpenAI routes' 1 MiB limit.
  const small = Buffer.from(`${'['.repeat(500_000)}${']'.repeat(500_000)}`);
  const openAi = await watchGateway(gw.url, () =>
    call(`${gw.url}/pipelines/llm/openai/v1/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: small }),
  );
  assertRefusedResponsively(openAi, TOO_DEEP, small.length, bodyLimit);

  // F2's 60 MB, to a pipeline that converts JSON to Arrow for Wallaroo (within its 64 MiB body limit).
  const large = Buffer.from(`${'['.repeat(30_000_000)}${']'.repeat(30_000_000)}`);
  const conversion = await watchGateway(gw.url, () => infer(gw.url, 'summary', large));
  assertRefusedResponsively(conversion, TOO_DEEP, large.length, bodyLimit);
  assert.equal(simulator.control.counts.inference, 0, 'nothing reached Wallaroo');

  // Honest nesting still passes on both.
  const completion = await call(`${gw.url}/pipelines/llm/openai/v1/completions`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'm', prompt: 'hello', max_tokens: 3 }),
  });
  assert.equal(completion.status, 200, completion.text);
  assert.equal((await infer(gw.url, 'summary', JSON.stringify([{ a: [[[1, 2]]] }]))).status, 200);
});
