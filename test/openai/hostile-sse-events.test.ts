import assert from 'node:assert/strict';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test, type TestContext } from 'node:test';
import { call } from '../helpers/http.ts';
import { standInConfig, startGateway } from '../helpers/gateway.ts';
import { readEvents } from '../helpers/sse.ts';
import { useSimulator } from '../helpers/simulator.ts';
import { waitFor } from '../helpers/wait.ts';

const MIB = 1024 * 1024;

/** A stand-in Wallaroo streaming what `play` writes; tells when its side of the stream was closed. */
async function streamingWallaroo(t: TestContext, play: (response: ServerResponse) => void) {
  const state = { closed: false, written: 0 };
  const server = createServer((request, response) => {
    request.resume();
    response.once('close', () => (state.closed = true));
    response.writeHead(200, { 'content-type': 'text/event-stream' });
    play(response);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => {
    server.closeAllConnections();
    return new Promise((resolve) => server.close(resolve));
  });
  return { port: (server.address() as AddressInfo).port, state };
}

const chat = { messages: [], stream: true };

test('NUL bytes in the events of a Wallaroo stream reach the caller as U+FFFD, never joining the bytes around them', async (t) => {
  const simulator = await useSimulator(t);
  const wallaroo = await streamingWallaroo(t, (response) => {
    response.write('data: {"id":"c1","choices":[{"delta":{"content":"a\0b"}}]}\n\0\n');
    // E2 00 82 AC: invalid UTF-8 that would read as a euro sign if the NUL were only dropped.
    response.write(Buffer.from([0x64, 0x61, 0x74, 0x61, 0x3a, 0x20, 0xe2, 0x00, 0x82, 0xac, 0x0a, 0x0a]));
    response.end('event: \0done\0\ndata: [DONE]\n\n');
  });
  const gw = await startGateway(t, standInConfig(simulator, wallaroo.port, { name: 'llm' }));
  const answer = await call(`${gw.url}/pipelines/llm/openai/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(chat) });
  assert.equal(answer.status, 200);
  assert.equal(answer.body.includes(0), false, 'no NUL byte relayed');
  const expected = Buffer.concat([
    Buffer.from(': keepalive\n\ndata: {"id":"c1","choices":[{"delta":{"content":"a\uFFFDb"}}]}\n\uFFFD\n'),
    Buffer.from([0x64, 0x61, 0x74, 0x61, 0x3a, 0x20, 0xe2, 0xef, 0xbf, 0xbd, 0x82, 0xac, 0x0a, 0x0a]),
    Buffer.from('event: \uFFFDdone\uFFFD\ndata: [DONE]\n\n'),
  ]);
  assert.deepEqual(answer.body, expected);
  assert.equal(answer.text.includes('€'), false, 'no character Wallaroo never sent');
});

test('a 5 MiB event line is cut at server.openAiEventLimit: the stream ends with a coded error event, none of the line relayed', async (t) => {
  const simulator = await useSimulator(t);
  const piece = Buffer.alloc(64 * 1024, 0x61);
  // One `data:` line of 5 MiB, never ended, written as fast as the gateway reads it; the stream then stays open.
  const wallaroo = await streamingWallaroo(t, (response) => {
    response.write('data: {"id":"c0","choices":[]}\n\n');
    response.write('data: ');
    const pump = () => {
      while (wallaroo.state.written < 5 * MIB && !response.destroyed) {
        wallaroo.state.written += piece.length;
        if (!response.write(piece)) return void response.once('drain', pump);
      }
    };
    pump();
  });
  const gw = await startGateway(t, standInConfig(simulator, wallaroo.port, { name: 'llm' }));
  assert.equal(gw.config.server.openAiEventLimit, MIB);

  const { status, events } = await readEvents(`${gw.url}/pipelines/llm/openai/v1/chat/completions`, chat);
  assert.equal(status, 200);
  assert.deepEqual(events.map((e) => e.event ?? e.comment ?? e.data?.slice(0, 20)), ['keepalive', '{"id":"c0","choices"', 'error']);
  assert.deepEqual(JSON.parse(events[2]!.data!), {
    statusCode: 502, code: 'GW_UPSTREAM_BAD_RESPONSE', error: 'Bad Gateway',
    message: `pipeline llm: an event in Wallaroo's stream exceeds ${MIB} bytes (server.openAiEventLimit)`,
  });
  await waitFor(() => wallaroo.state.closed, "Wallaroo's stream to be closed");
  assert.ok(wallaroo.state.written < 5 * MIB, `the gateway stopped reading the line early (${wallaroo.state.written} bytes written)`);
});

test('whole events ahead of an oversized one in the same chunk are still relayed before the error event', async (t) => {
  const simulator = await useSimulator(t);
  // One write: a complete event, then the start of an event already past the limit.
  const wallaroo = await streamingWallaroo(t, (response) => {
    response.write(`data: {"id":"c1","choices":[]}\n\ndata: ${'x'.repeat(4096)}`);
  });
  const limited = await startGateway(t, { ...standInConfig(simulator, wallaroo.port, { name: 'llm' }), server: { host: '127.0.0.1', port: 0, openAiEventLimit: 1024 } });

  const { status, events } = await readEvents(`${limited.url}/pipelines/llm/openai/v1/chat/completions`, chat);
  assert.equal(status, 200);
  assert.deepEqual(events.map((e) => e.event ?? e.comment ?? e.data), ['keepalive', '{"id":"c1","choices":[]}', 'error']);
  assert.equal(JSON.parse(events[2]!.data!).code, 'GW_UPSTREAM_BAD_RESPONSE');
});
