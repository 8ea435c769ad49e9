import assert from 'node:assert/strict';
import diagnosticsChannel from 'node:diagnostics_channel';
import { createServer as createHttpServer } from 'node:http';
import { test } from 'node:test';
import { RetryBudget } from '../../src/limits/retry-budget.ts';
import { ccfraudBody } from '../helpers/data.ts';
import { standInConfig, startGateway } from '../helpers/gateway.ts';
import { infer, readyStatus } from '../helpers/http.ts';
import { freePort } from '../helpers/ports.ts';
import { listenRaw } from '../helpers/raw-http.ts';
import { useSimulator } from '../helpers/simulator.ts';

test('connection refused (nothing sent) is retried with backoff until Wallaroo is back', async (t) => {
  const simulator = await useSimulator(t);
  const port = await freePort();
  const gw = await startGateway(t, standInConfig(simulator, port, { name: 'p', maxRetries: 5 }));
  assert.equal(await readyStatus(gw.url, 50, 20), 200);
  let served = 0;
  const late = createHttpServer((req, res) => {
    served++;
    req.resume();
    req.on('end', () => res.writeHead(200, { 'content-type': 'application/json' }).end('[{"out":{"y":[1]}}]'));
  });
  t.after(() => new Promise((resolve) => late.close(resolve)));
  // Up once the first attempt has been refused (undici reports it on its diagnostics channel), well before five
  // backoffs (at least 25+50+100+200 ms) run out.
  const refused = new Promise<void>((resolve) => {
    const onConnectError = (message: unknown) => {
      if (String((message as { connectParams: { port: unknown } }).connectParams.port) !== String(port)) return;
      diagnosticsChannel.unsubscribe('undici:client:connectError', onConnectError);
      resolve();
    };
    diagnosticsChannel.subscribe('undici:client:connectError', onConnectError);
  });
  const answering = infer(gw.url, 'p', ccfraudBody());
  await refused;
  late.listen(port, '127.0.0.1');
  const answer = await answering;
  assert.equal(answer.status, 200);
  assert.equal(served, 1);
  const line = gw.logs.find((l) => l.msg === 'request' && l.route === 'infer')!;
  assert.ok((line.retries as number) >= 1, `retries ${line.retries}`);
});

test('a connection reset after the request was sent is never retried', async (t) => {
  const simulator = await useSimulator(t);
  let connections = 0;
  const port = await listenRaw(t, (socket) => {
    connections++;
    socket.once('data', () => socket.destroy());
  });
  const gw = await startGateway(t, standInConfig(simulator, port, { name: 'p', maxRetries: 3 }));
  const answer = await infer(gw.url, 'p', ccfraudBody());
  assert.equal(answer.status, 502);
  assert.equal(connections, 1, 'Wallaroo may have started the work: no second attempt');
});

test('the retry budget caps retries at a share of traffic plus a small floor', () => {
  let now = 0;
  const budget = new RetryBudget(0.2, 3, 50, () => now);
  const granted = Array.from({ length: 10 }, () => budget.tryRetry()).filter(Boolean).length;
  assert.equal(granted, 3, 'the floor: 3 retries with no traffic');
  for (let i = 0; i < 50; i++) budget.recordRequest();
  assert.equal(Array.from({ length: 20 }, () => budget.tryRetry()).filter(Boolean).length, 10, '20% of 50 requests');
  now += 1_000;
  assert.equal(Array.from({ length: 10 }, () => budget.tryRetry()).filter(Boolean).length, 3, 'refills 3 a second');
});
