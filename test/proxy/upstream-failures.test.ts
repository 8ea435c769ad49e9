import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ccfraudBody } from '../helpers/data.ts';
import { simulatorConfig, standInConfig, startGateway } from '../helpers/gateway.ts';
import { infer } from '../helpers/http.ts';
import { freePort } from '../helpers/ports.ts';
import { listenRaw } from '../helpers/raw-http.ts';
import { useSimulator } from '../helpers/simulator.ts';
import { waitFor } from '../helpers/wait.ts';

test('Wallaroo slower than the pipeline timeout is 504 GW_UPSTREAM_TIMEOUT', async (t) => {
  const simulator = await useSimulator(t);
  // An explicit URL and a token already held: the first request does not spend its 500 ms on discovery.
  const gw = await startGateway(t, simulatorConfig(simulator, { pipelines: [{ name: 'ccfraud', url: simulator.control.inferenceUrl('ccfraud'), timeoutMs: 500 }] }));
  await waitFor(() => gw.gateway.tokens.inference.hasValidToken(), 'the first token');
  assert.equal((await infer(gw.url, 'ccfraud', ccfraudBody())).status, 200);
  simulator.control.latencyMs = 3_000;
  let wallarooAnswered = false;
  const onAnswered = () => {
    wallarooAnswered = true;
  };
  simulator.control.events.on('inference-answered', onAnswered);
  t.after(() => simulator.control.events.off('inference-answered', onAnswered));
  const hungUp = simulator.control.waitFor('caller-aborted');
  const answer = await infer(gw.url, 'ccfraud', ccfraudBody());
  assert.equal(wallarooAnswered, false, 'answered at the timeout, not when Wallaroo finished');
  await hungUp; // and the gateway stopped waiting on Wallaroo
  assert.deepEqual(answer.json(), {
    statusCode: 504, code: 'GW_UPSTREAM_TIMEOUT', error: 'Gateway Timeout', message: 'pipeline ccfraud: timed out waiting for Wallaroo (limit 500 ms)',
  });
});

test('a refused connection is 502 GW_UPSTREAM_UNREACHABLE; a reset mid-answer too', async (t) => {
  const port = await freePort(); // nothing listens there
  const simulator = await useSimulator(t);
  const gw = await startGateway(t, standInConfig(simulator, port, { name: 'dead' }));
  const answer = await infer(gw.url, 'dead', ccfraudBody());
  assert.deepEqual(answer.json(), {
    statusCode: 502, code: 'GW_UPSTREAM_UNREACHABLE', error: 'Bad Gateway', message: 'pipeline dead: Wallaroo could not be reached (ECONNREFUSED)',
  });

  // A server that accepts, reads, then drops the connection without answering.
  const rudePort = await listenRaw(t, (socket) => socket.once('data', () => socket.destroy()));
  const gw2 = await startGateway(t, standInConfig(simulator, rudePort, { name: 'rude' }));
  const reset = await infer(gw2.url, 'rude', ccfraudBody());
  assert.equal(reset.status, 502);
  assert.equal(reset.json<{ code: string }>().code, 'GW_UPSTREAM_UNREACHABLE');
});

test('an answer whose chunked framing breaks before its first body byte is 502 GW_UPSTREAM_BAD_RESPONSE, not a gateway bug', async (t) => {
  const brokenPort = await listenRaw(t, (socket) =>
    socket.once('data', () => socket.end('HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\nZZZ\r\n[{"a":1}]\r\n0\r\n\r\n')),
  );
  const simulator = await useSimulator(t);
  const gw = await startGateway(t, standInConfig(simulator, brokenPort, { name: 'broken' }));
  const answer = await infer(gw.url, 'broken', ccfraudBody());
  assert.deepEqual(answer.json(), {
    statusCode: 502, code: 'GW_UPSTREAM_BAD_RESPONSE', error: 'Bad Gateway', message: "pipeline broken: Wallaroo's answer was not valid HTTP (HTTPParserError)",
  });
  assert.equal(gw.logs.some((line) => line.msg === 'unexpected error'), false, 'no stack, no raw bytes of the answer in the log');
});
