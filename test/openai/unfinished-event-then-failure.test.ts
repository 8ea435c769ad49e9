import assert from 'node:assert/strict';
import { test } from 'node:test';
import { standInConfig, startGateway } from '../helpers/gateway.ts';
import { listenRaw } from '../helpers/raw-http.ts';
import { readEvents } from '../helpers/sse.ts';
import { useSimulator } from '../helpers/simulator.ts';

test('Wallaroo failing in the middle of an event: the gateway ends that event before its own error event, so the caller parses the error', async (t) => {
  const simulator = await useSimulator(t);
  // A Wallaroo that starts a stream, sends half an event (no blank line after it) and then resets the connection.
  const port = await listenRaw(t, (socket) => {
    socket.once('data', () => {
      socket.write('HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n');
      const partial = 'data: {"id":"c1","choices":[]}';
      socket.write(`${partial.length.toString(16)}\r\n${partial}\r\n`, () => socket.resetAndDestroy());
    });
  });
  const gw = await startGateway(t, standInConfig(simulator, port, { name: 'llm', maxRetries: 0 }));
  const { status, events } = await readEvents(`${gw.url}/pipelines/llm/openai/v1/chat/completions`, { messages: [], stream: true });
  assert.equal(status, 200);
  const error = events.find((e) => e.event === 'error');
  assert.ok(error, `an error event of its own: ${JSON.stringify(events)}`);
  assert.equal((JSON.parse(error.data!) as { code: string }).code, 'GW_UPSTREAM_UNREACHABLE');
});
