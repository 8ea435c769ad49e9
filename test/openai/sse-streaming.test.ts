import assert from 'node:assert/strict';
import { test } from 'node:test';
import { simulatorConfig, startGateway } from '../helpers/gateway.ts';
import { call } from '../helpers/http.ts';
import { readEvents } from '../helpers/sse.ts';
import { useSimulator } from '../helpers/simulator.ts';

const llm = (timeoutMs = 30_000) => ({ pipelines: [{ name: 'llm', workspace: 'demo', timeoutMs }] });
// OpenAI-compatible endpoints exist from Wallaroo 2025 on, whatever version the suite runs against.
const version = '2025';
const prompt = { prompt: 'one two three four five six', stream: true };

test('"stream": true relays events as they are produced: the first arrives while the model is still generating', async (t) => {
  const simulator = await useSimulator(t, { version });
  simulator.control.streamTokenDelayMs = 200;
  const gw = await startGateway(t, simulatorConfig(simulator, llm()));
  const producedAt: number[] = []; // when the simulator wrote each chunk, by index
  const onChunk = ({ index }: { index: number }) => {
    producedAt[index] = Date.now();
  };
  simulator.control.events.on('stream-chunk', onChunk);
  t.after(() => simulator.control.events.off('stream-chunk', onChunk));
  const { status, headers, events } = await readEvents(`${gw.url}/pipelines/llm/openai/v1/completions`, prompt);
  assert.equal(status, 200);
  assert.equal(headers['content-type'], 'text/event-stream; charset=utf-8');
  assert.equal(headers['x-accel-buffering'], 'no');
  assert.equal(headers['cache-control'], 'no-cache');
  assert.equal(events[0]!.comment, 'keepalive', 'a keepalive comment before the first token');
  const data = events.filter((e) => e.data);
  assert.ok(events[0]!.at < data[0]!.at, `keepalive at ${events[0]!.at} ms, first token at ${data[0]!.at} ms`);
  assert.equal(data.at(-1)!.data, '[DONE]');
  const chunks = data.slice(0, -1).map((e) => JSON.parse(e.data!) as { choices: Array<{ text: string }>; usage: Record<string, number> | null });
  assert.equal(chunks.flatMap((c) => c.choices.map((choice) => choice.text)).join(''), 'Echo: six five four three two one');
  // As recorded: the usage comes last, in a chunk of its own with no choices.
  const { ttft, tps, ...usage } = chunks.at(-1)!.usage!;
  assert.deepEqual(chunks.at(-1)!.choices, []);
  assert.deepEqual(usage, { prompt_tokens: 6, completion_tokens: 7, total_tokens: 13 });
  assert.equal(typeof ttft, 'number');
  assert.equal(typeof tps, 'number');
  // Relayed, not buffered: the first event reached the caller before the simulator wrote its last chunk (they
  // are 200 ms apart, so only a gateway holding the stream back sees them in the other order).
  assert.equal(producedAt.length, chunks.length);
  assert.ok(data[0]!.receivedAt < producedAt.at(-1)!, `first event read at ${data[0]!.receivedAt}, last chunk written at ${producedAt.at(-1)}`);

  const metrics = (await call(`${gw.url}/metrics`)).text;
  assert.match(metrics, /^wallaroo_gateway_stream_first_byte_seconds_count\{pipeline="llm"\} 1$/m);
  assert.match(metrics, /^wallaroo_gateway_llm_tokens_total\{pipeline="llm",kind="completion"\} 7$/m);
  const line = gw.logs.find((l) => l.msg === 'request' && l.route === 'openai')!;
  assert.equal(typeof line.firstByteMs, 'number');
});

test('the idle timeout applies between events, not to the whole stream', async (t) => {
  const simulator = await useSimulator(t, { version });
  simulator.control.streamTokenDelayMs = 150;
  const gw = await startGateway(t, simulatorConfig(simulator, llm(1_200)));
  const { events } = await readEvents(`${gw.url}/pipelines/llm/openai/v1/completions`, { ...prompt, prompt: 'a b c d e f g h i j k l' });
  const data = events.filter((e) => e.data);
  assert.equal(data.at(-1)!.data, '[DONE]', 'a 2 s stream under a 1.2 s timeout completes');
  assert.ok(data.at(-1)!.at > 1_200);

  simulator.control.streamTokenDelayMs = 4_000; // silent for longer than the timeout
  const stalled = await readEvents(`${gw.url}/pipelines/llm/openai/v1/completions`, prompt);
  const error = stalled.events.find((e) => e.event === 'error');
  assert.ok(error, JSON.stringify(stalled.events));
  assert.equal(JSON.parse(error.data!).code, 'GW_UPSTREAM_TIMEOUT');
  assert.equal(stalled.events.filter((e) => e.data && !e.event).length, 0, 'ended before the first token, which comes after 4 s');
});

test('Wallaroo failing mid-stream: the events so far, then a coded error event, then a clean end', async (t) => {
  const simulator = await useSimulator(t, { version });
  simulator.control.streamFailAfterTokens = 3;
  const gw = await startGateway(t, simulatorConfig(simulator, llm()));
  const { status, events } = await readEvents(`${gw.url}/pipelines/llm/openai/v1/chat/completions`, { messages: [{ role: 'user', content: 'p q r s' }], stream: true });
  assert.equal(status, 200);
  const data = events.filter((e) => e.data && !e.event);
  assert.equal(data.length, 3);
  const last = events.at(-1)!;
  assert.equal(last.event, 'error');
  assert.deepEqual(JSON.parse(last.data!), { statusCode: 502, code: 'GW_UPSTREAM_UNREACHABLE', error: 'Bad Gateway', message: 'pipeline llm: Wallaroo could not be reached (UND_ERR_SOCKET)' });
});

test('a caller that disconnects mid-stream aborts the upstream stream', async (t) => {
  const simulator = await useSimulator(t, { version });
  simulator.control.streamTokenDelayMs = 100;
  const gw = await startGateway(t, simulatorConfig(simulator, llm()));
  const controller = new AbortController();
  const reading = readEvents(`${gw.url}/pipelines/llm/openai/v1/completions`, { ...prompt, prompt: 'a b c d e f g h i j k l m n' }, {}, controller.signal, 2).then(() => controller.abort());
  const hungUp = simulator.control.waitFor('caller-aborted');
  await reading;
  await hungUp;
  assert.equal(simulator.control.counts.abortedByCaller, 1);
});
