import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { test } from 'node:test';
import { ccfraudBody } from '../helpers/data.ts';
import { simulatorConfig, startGateway } from '../helpers/gateway.ts';
import { infer } from '../helpers/http.ts';
import { useSimulator } from '../helpers/simulator.ts';

test('Wallaroo slower than the pipeline timeout is 504 GW_UPSTREAM_TIMEOUT', async (t) => {
  const simulator = await useSimulator(t);
  const gw = await startGateway(t, simulatorConfig(simulator, { pipelines: [{ name: 'ccfraud', workspace: 'demo', timeoutMs: 200 }] }));
  assert.equal((await infer(gw.url, 'ccfraud', ccfraudBody())).status, 200);
  simulator.control.latencyMs = 1_000;
  const started = Date.now();
  const answer = await infer(gw.url, 'ccfraud', ccfraudBody());
  assert.ok(Date.now() - started < 900, 'answered at the timeout, not when Wallaroo finished');
  assert.deepEqual(answer.json(), {
    statusCode: 504, code: 'GW_UPSTREAM_TIMEOUT', error: 'Gateway Timeout', message: 'pipeline ccfraud: timed out waiting for Wallaroo (limit 200 ms)',
  });
});

test('a refused connection is 502 GW_UPSTREAM_UNREACHABLE; a reset mid-answer too', async (t) => {
  // A port that was just free: nothing listens there.
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const port = (probe.address() as import('node:net').AddressInfo).port;
  await new Promise((resolve) => probe.close(resolve));
  const simulator = await useSimulator(t);
  const raw = simulatorConfig(simulator, {
    wallaroo: { url: `http://127.0.0.1:${port}`, auth: { clientSecret: 'simulator-secret', tokenUrl: `${simulator.url}/auth/realms/master/protocol/openid-connect/token` } },
    pipelines: [{ name: 'dead', url: `http://127.0.0.1:${port}/v1/api/pipelines/infer/dead-1/dead` }],
  });
  const gw = await startGateway(t, raw);
  const answer = await infer(gw.url, 'dead', ccfraudBody());
  assert.deepEqual(answer.json(), {
    statusCode: 502, code: 'GW_UPSTREAM_UNREACHABLE', error: 'Bad Gateway', message: 'pipeline dead: Wallaroo could not be reached (ECONNREFUSED)',
  });

  // A server that accepts, reads, then drops the connection without answering.
  const rude = createServer((socket) => socket.once('data', () => socket.destroy()));
  await new Promise<void>((resolve) => rude.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise((resolve) => rude.close(resolve)));
  const rudePort = (rude.address() as import('node:net').AddressInfo).port;
  const gw2 = await startGateway(t, simulatorConfig(simulator, {
    wallaroo: { url: `http://127.0.0.1:${rudePort}`, auth: { clientSecret: 'simulator-secret', tokenUrl: `${simulator.url}/auth/realms/master/protocol/openid-connect/token` } },
    pipelines: [{ name: 'rude', url: `http://127.0.0.1:${rudePort}/infer` }],
  }));
  const reset = await infer(gw2.url, 'rude', ccfraudBody());
  assert.equal(reset.status, 502);
  assert.equal(reset.json<{ code: string }>().code, 'GW_UPSTREAM_UNREACHABLE');
});
