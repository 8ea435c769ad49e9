import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { standInConfig, startGateway } from '../helpers/gateway.ts';
import { readEvents } from '../helpers/sse.ts';
import { useSimulator } from '../helpers/simulator.ts';
import { waitFor } from '../helpers/wait.ts';

// A Wallaroo stream that sends `: keep-alive` comments every 20 ms and never an end: the idle bound between chunks
// never fires, so the total bound (server.openAiStreamTimeoutMs) must end it, with a final coded error event.
test('a stream kept open by SSE comments alone is ended after server.openAiStreamTimeoutMs with an error event', async (t) => {
  const simulator = await useSimulator(t);
  let upstreamClosed = false;
  const wallaroo = createServer((request, response) => {
    request.resume();
    response.writeHead(200, { 'content-type': 'text/event-stream' });
    response.write('data: {"id":"c1","choices":[{"index":0,"delta":{"content":"Hi"}}],"usage":null}\n\n');
    const comments = setInterval(() => response.write(': keep-alive\n\n'), 20);
    response.once('close', () => {
      clearInterval(comments);
      upstreamClosed = true;
    });
  });
  await new Promise<void>((resolve) => wallaroo.listen(0, '127.0.0.1', resolve));
  t.after(() => {
    wallaroo.closeAllConnections();
    return new Promise((resolve) => wallaroo.close(resolve));
  });
  const gw = await startGateway(t, {
    ...standInConfig(simulator, (wallaroo.address() as AddressInfo).port, { name: 'llm' }),
    server: { host: '127.0.0.1', port: 0, maxEventLoopDelayMs: 0, openAiStreamTimeoutMs: 500 },
  });

  const { status, events } = await readEvents(`${gw.url}/pipelines/llm/openai/v1/chat/completions`, { messages: [], stream: true });
  assert.equal(status, 200);
  assert.ok(events.some((e) => e.data?.includes('"Hi"')), 'the honest part was relayed');
  assert.ok(events.filter((e) => e.comment === 'keep-alive').length > 0, "Wallaroo's comments were relayed");
  const last = events.at(-1)!;
  assert.equal(last.event, 'error', `the stream ends with an error event: ${JSON.stringify(events.slice(-3))}`);
  assert.deepEqual(JSON.parse(last.data!), {
    statusCode: 504, code: 'GW_UPSTREAM_TIMEOUT', error: 'Gateway Timeout',
    message: 'pipeline llm: the stream was still open after 500 ms (server.openAiStreamTimeoutMs)',
  });
  await waitFor(() => upstreamClosed, "Wallaroo's stream to be closed");
  const line = await waitFor(() => gw.logs.find((entry) => entry.msg === 'request' && entry.pipeline === 'llm'), 'the request log line');
  assert.equal(line.code, 'GW_UPSTREAM_TIMEOUT');
});
