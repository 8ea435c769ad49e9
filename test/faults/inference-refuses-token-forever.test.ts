import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { ccfraudBody } from '../helpers/data.ts';
import { standInConfig, startGateway } from '../helpers/gateway.ts';
import { call, infer } from '../helpers/http.ts';
import { useSimulator } from '../helpers/simulator.ts';
import { waitFor } from '../helpers/wait.ts';

test('inference answering 401 forever (a permissions problem): each caller gets 502 GW_UPSTREAM_UNAUTHORIZED, and the valid token is kept: at most one fetch per refusal window', async (t) => {
  const simulator = await useSimulator(t);
  let calls = 0;
  const wallaroo = createServer((request, response) => {
    calls++;
    request.resume();
    request.on('end', () => response.writeHead(401, { 'content-type': 'application/json', 'www-authenticate': 'Bearer' }).end('{"code":401,"status":"error","error":"Jwt is missing"}'));
  });
  await new Promise<void>((resolve) => wallaroo.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise((resolve) => wallaroo.close(resolve)));
  const gw = await startGateway(t, standInConfig(simulator, (wallaroo.address() as AddressInfo).port, { name: 'locked' }));
  await waitFor(async () => (await call(`${gw.url}/readyz`)).status === 200, 'the first token');
  const tokensBefore = simulator.control.counts.token;
  for (let i = 0; i < 10; i++) {
    const answer = await infer(gw.url, 'locked', ccfraudBody());
    assert.equal(answer.status, 502);
    assert.equal(answer.json<{ code: string }>().code, 'GW_UPSTREAM_UNAUTHORIZED');
  }
  // Before: about two fetches per request (19 for 10), each fresh token thrown away after its refusal.
  assert.equal(simulator.control.counts.token - tokensBefore, 1, 'one fetch, for the first refusal');
  assert.ok(calls <= 11, `Wallaroo saw ${calls} calls: one per request, plus the first one's replay`);
  assert.equal((await call(`${gw.url}/readyz`)).status, 200, 'still ready: the token is valid, Wallaroo refuses it');
});
