import assert from 'node:assert/strict';
import { test } from 'node:test';
import { standInConfig, startGateway } from '../helpers/gateway.ts';
import { infer } from '../helpers/http.ts';
import { listenRaw } from '../helpers/raw-http.ts';
import { useSimulator } from '../helpers/simulator.ts';

// Issue 15, hostile upstream: an answer whose status line is not HTTP became a 500 (a gateway bug, by its code)
// instead of a 502 naming Wallaroo's answer as the fault.

test('a status line Wallaroo cannot have sent is 502 GW_UPSTREAM_BAD_RESPONSE', async (t) => {
  const simulator = await useSimulator(t);
  const port = await listenRaw(t, (socket) => {
    socket.on('error', () => {});
    socket.once('data', () => socket.end('HTTP/1.1 1000 Beyond\r\ncontent-length: 2\r\n\r\n{}'));
  });
  const gateway = await startGateway(t, standInConfig(simulator, port, { name: 'odd', maxRetries: 0 }));
  const answer = await infer(gateway.url, 'odd', '[{"tensor":[1]}]');
  assert.equal(answer.status, 502);
  assert.deepEqual(answer.json(), {
    statusCode: 502, code: 'GW_UPSTREAM_BAD_RESPONSE', error: 'Bad Gateway', message: "pipeline odd: Wallaroo's answer was not valid HTTP (HTTPParserError)",
  });
});
