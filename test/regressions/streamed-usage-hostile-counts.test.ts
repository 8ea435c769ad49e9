import assert from 'node:assert/strict';
import { test } from 'node:test';
import { request } from 'undici';
import { standInConfig, startGateway } from '../helpers/gateway.ts';
import { call } from '../helpers/http.ts';
import { listenRaw } from '../helpers/raw-http.ts';
import { useSimulator } from '../helpers/simulator.ts';

// Issue 15, hostile upstream: a streamed OpenAI answer whose usage had a negative token count made prom-client
// throw inside a stream event handler and the process exited 1; and the SSE scan split only on "\n\n", so a
// valid CRLF stream's usage (here in a multi-line data field) was never counted.

const CRLF_STREAM = [
  'data: {"choices":[{"text":"hi"}],"usage":null}\r\n\r\n',
  'data: {"choices":[],\r\ndata: "usage":{"prompt_tokens":3,"completion_tokens":5,"total_tokens":8}}\r\n\r\n',
  'data: [DONE]\r\n\r\n',
].join('');
const NEGATIVE_STREAM = 'data: {"choices":[],"usage":{"prompt_tokens":-5,"completion_tokens":1e308,"total_tokens":"NaN"}}\n\ndata: [DONE]\n\n';

test('streamed usage: CRLF and multi-line data are counted, hostile counts are ignored, the process lives', async (t) => {
  const simulator = await useSimulator(t);
  const streams = [CRLF_STREAM, NEGATIVE_STREAM];
  let served = 0;
  const port = await listenRaw(t, (socket) => {
    socket.on('error', () => {});
    const body = streams[served++]!;
    socket.once('data', () => socket.end(`HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n\r\n${body}`));
  });
  const gateway = await startGateway(t, standInConfig(simulator, port, { name: 'llm', maxRetries: 0 }));
  for (const body of streams) {
    const response = await request(`${gateway.url}/pipelines/llm/openai/v1/completions`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"prompt":"hi","stream":true}',
    });
    assert.equal(response.statusCode, 200);
    assert.equal(await response.body.text(), `: keepalive\n\n${body}`);
  }
  assert.equal((await call(`${gateway.url}/healthz`)).status, 200);
  const metrics = (await call(`${gateway.url}/metrics`)).text;
  assert.match(metrics, /^wallaroo_gateway_llm_tokens_total\{pipeline="llm",kind="prompt"\} 3$/m);
  assert.match(metrics, /^wallaroo_gateway_llm_tokens_total\{pipeline="llm",kind="completion"\} 5$/m);
});
