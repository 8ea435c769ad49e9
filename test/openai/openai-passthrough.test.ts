import assert from 'node:assert/strict';
import { test } from 'node:test';
import { simulatorConfig, startGateway } from '../helpers/gateway.ts';
import { call } from '../helpers/http.ts';
import { useSimulator } from '../helpers/simulator.ts';

const llm = { pipelines: [{ name: 'llm', workspace: 'demo' }] };
// OpenAI-compatible endpoints exist from Wallaroo 2025 on, whatever version the suite runs against.
const version = '2025';

test('completions and chat completions pass through with the managed token, and usage is counted', async (t) => {
  const simulator = await useSimulator(t, { version });
  const gw = await startGateway(t, simulatorConfig(simulator, llm));
  const completion = await call(`${gw.url}/pipelines/llm/openai/v1/completions`, {
    method: 'POST', headers: { 'content-type': 'application/json', authorization: 'Bearer caller' }, body: JSON.stringify({ prompt: 'alpha beta gamma' }),
  });
  assert.equal(completion.status, 200);
  const body = completion.json<{ object?: string; choices: Array<{ text: string; finish_reason: string }>; usage: Record<string, number | null> }>();
  assert.equal(body.object, undefined, 'Wallaroo\'s completions carry no object');
  assert.equal(body.choices[0]!.text, 'Echo: gamma beta alpha');
  assert.deepEqual(body.usage, { completion_tokens: 4, prompt_tokens: 3, total_tokens: 7, tps: null, ttft: null });
  const seen = simulator.control.seen.at(-1)!;
  assert.match(seen.url, /^\/v1\/api\/pipelines\/infer\/llm-\d+\/llm\/openai\/v1\/completions$/);
  assert.match(String(seen.headers.authorization), /^Bearer ey/);

  const chat = await call(`${gw.url}/pipelines/llm/openai/v1/chat/completions`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ messages: [{ role: 'user', content: 'x y' }], max_tokens: 2 }),
  });
  const chatBody = chat.json<{ object: string; choices: Array<{ message: { content: string }; finish_reason: string }> }>();
  assert.equal(chatBody.object, 'chat.completion');
  assert.deepEqual(chatBody.choices[0], { delta: null, finish_reason: 'length', index: 0, message: { content: 'Echo: y', role: 'assistant', tool_calls: [] } });

  const metrics = (await call(`${gw.url}/metrics`)).text;
  assert.match(metrics, /^wallaroo_gateway_llm_tokens_total\{pipeline="llm",kind="prompt"\} 5$/m);
  assert.match(metrics, /^wallaroo_gateway_llm_tokens_total\{pipeline="llm",kind="completion"\} 6$/m);
  assert.match(metrics, /^wallaroo_gateway_requests_total\{pipeline="llm",route="openai",status="200"\} 2$/m);
});

test('bad bodies, wrong content types, unknown OpenAI paths and upstream refusals get coded or passed-through errors', async (t) => {
  const simulator = await useSimulator(t, { version });
  const gw = await startGateway(t, simulatorConfig(simulator, llm));
  const post = (path: string, body: string, type = 'application/json') =>
    call(`${gw.url}/pipelines/llm/openai/v1/${path}`, { method: 'POST', headers: { 'content-type': type }, body });
  assert.equal((await post('completions', '{"prompt":')).json<{ code: string }>().code, 'GW_INVALID_JSON');
  assert.equal((await post('completions', '["not an object"]')).json<{ code: string }>().code, 'GW_INVALID_JSON');
  assert.equal((await post('completions', 'prompt=x', 'application/x-www-form-urlencoded')).status, 415);
  const unknown = await post('embeddings', '{}');
  assert.equal(unknown.status, 404);
  assert.equal(unknown.json<{ code: string }>().code, 'GW_ROUTE_NOT_FOUND');
  assert.equal(simulator.control.counts.inference, 0, 'none of these reached Wallaroo');
  const refused = await post('completions', '{"prompt": 42}');
  assert.equal(refused.status, 400);
  assert.equal(refused.headers['x-gateway-upstream-status'], '400');
  assert.deepEqual(refused.json(), { code: 400, status: 'error', error: 'prompt must be a string or an array of strings', source: 'engine' });
});

test('a refused token is renewed and the OpenAI request replayed once, before any byte reaches the caller', async (t) => {
  const simulator = await useSimulator(t, { version });
  const gw = await startGateway(t, simulatorConfig(simulator, llm));
  const ask = () => call(`${gw.url}/pipelines/llm/openai/v1/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"prompt":"a","stream":true}' });
  assert.equal((await ask()).status, 200);
  simulator.control.revokeAllTokens();
  const replayed = await ask();
  assert.equal(replayed.status, 200);
  assert.match(replayed.text, /^: keepalive\n\ndata: \{/);
  assert.ok(replayed.text.endsWith('data: [DONE]\n\n'));
  assert.deepEqual(gw.logs.filter((l) => l.msg === 'request' && l.route === 'openai').at(-1)!.replays, ['token']);
});
