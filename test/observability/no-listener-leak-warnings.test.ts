import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ccfraudBody } from '../helpers/data.ts';
import { simulatorConfig, startGateway } from '../helpers/gateway.ts';
import { call, infer } from '../helpers/http.ts';
import { useSimulator } from '../helpers/simulator.ts';

// Each request hangs several 'close' listeners on its response (Fastify, the request log, the slot, the context);
// one too many and Node writes a MaxListenersExceededWarning, with a stack, to stderr on every request: noise in
// the operator's logs and a cost per request. Every route a request can take is walked once here.
test('requests on every route add no process warning (no MaxListenersExceededWarning per request)', async (t) => {
  const warnings: string[] = [];
  const onWarning = (warning: Error) => warnings.push(`${warning.name}: ${warning.message}`);
  process.on('warning', onWarning);
  t.after(() => process.off('warning', onWarning));
  const simulator = await useSimulator(t);
  if (!simulator.openAi) t.diagnostic(`simulated Wallaroo ${simulator.version} has no OpenAI endpoints: its routes are walked with the default release`);
  const gw = await startGateway(t, simulatorConfig(simulator, {
    pipelines: [
      { name: 'ccfraud', workspace: 'demo', rateLimit: { max: 1000, timeWindow: '1m' } },
      { name: 'arrow', pipeline: 'ccfraud', workspace: 'demo', upstreamFormat: 'arrow', inputSchema: { tensor: 'fixed_size_list<float32>[29]' } },
      { name: 'llm', workspace: 'demo' },
    ],
  }));
  for (let i = 0; i < 3; i++) {
    assert.equal((await infer(gw.url, 'ccfraud', ccfraudBody(200))).status, 200);
    assert.equal((await infer(gw.url, 'arrow', ccfraudBody())).status, 200);
    assert.equal((await infer(gw.url, 'ccfraud', ccfraudBody(), { accept: 'application/vnd.apache.arrow.stream' })).status, 200);
    const chat = { messages: [{ role: 'user', content: 'hi' }] };
    // Releases before 2025 have no OpenAI endpoints (npm run test:e2e with WALLAROO_SIM_VERSION); npm test's
    // default release has them, so every run of npm test walks these routes too.
    for (const stream of simulator.openAi ? [false, true] : []) {
      const answer = await call(`${gw.url}/pipelines/llm/openai/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ ...chat, stream }) });
      assert.equal(answer.status, 200);
    }
  }
  // A warning is emitted on the next tick after the listener that crossed the limit.
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(warnings, []);
});
