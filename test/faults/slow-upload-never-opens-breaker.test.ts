import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { test } from 'node:test';
import { ccfraudBody } from '../helpers/data.ts';
import { simulatorConfig, startGateway } from '../helpers/gateway.ts';
import { infer } from '../helpers/http.ts';
import { pipelineStatus } from '../helpers/pipelines.ts';
import { jsonBodyOf, statusOf } from '../helpers/raw-http.ts';
import { useSimulator } from '../helpers/simulator.ts';

/** A chunked upload that drips a few bytes every 100 ms (never idle long enough for bodyTimeoutMs) until answered. */
function dripUpload(gatewayUrl: string, maxMs: number): Promise<string> {
  const { hostname, port } = new URL(gatewayUrl);
  return new Promise((resolve, reject) => {
    let answer = '';
    const socket = connect(Number(port), hostname, () => {
      socket.write('POST /pipelines/ccfraud/infer HTTP/1.1\r\nHost: gw\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n1\r\n[\r\n');
    });
    const drip = setInterval(() => socket.write('3\r\n   \r\n'), 100);
    const giveUp = setTimeout(() => socket.destroy(new Error(`no answer within ${maxMs} ms`)), maxMs);
    socket.on('data', (data) => {
      answer += data.toString('latin1');
      if (answer.includes('\r\n\r\n') && answer.trimEnd().endsWith('}')) socket.end();
    });
    socket.on('close', () => {
      clearInterval(drip);
      clearTimeout(giveUp);
      resolve(answer);
    });
    socket.on('error', (error) => {
      clearInterval(drip);
      clearTimeout(giveUp);
      if (answer) resolve(answer);
      else reject(error);
    });
  });
}

test('uploads still dripping at the pipeline timeout are the caller’s 408, never a Wallaroo timeout: the breaker stays closed', async (t) => {
  const simulator = await useSimulator(t);
  const gw = await startGateway(t, simulatorConfig(simulator, {
    server: { bodyTimeoutMs: 10_000 },
    pipelines: [{ name: 'ccfraud', workspace: 'demo', timeoutMs: 700, circuitBreaker: { failureThreshold: 2, cooldownMs: 60_000 } }],
  }));
  assert.equal((await infer(gw.url, 'ccfraud', ccfraudBody())).status, 200);
  const answers = await Promise.all(Array.from({ length: 3 }, () => dripUpload(gw.url, 15_000)));
  for (const answer of answers) {
    assert.equal(statusOf(answer), 408, answer);
    assert.deepEqual(jsonBodyOf(answer), {
      statusCode: 408, code: 'GW_REQUEST_TIMEOUT', error: 'Request Timeout', message: 'the body was still arriving when the pipeline timeout passed',
    });
  }
  assert.equal((await pipelineStatus(gw.url, 'ccfraud')).breaker, 'closed');
  assert.equal((await infer(gw.url, 'ccfraud', ccfraudBody())).status, 200, 'Wallaroo is healthy and callers are served');
});
