import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ccfraudBody } from '../helpers/data.ts';
import { simulatorConfig, standInConfig, startGateway } from '../helpers/gateway.ts';
import { infer } from '../helpers/http.ts';
import { listenRaw } from '../helpers/raw-http.ts';
import { useSimulator } from '../helpers/simulator.ts';

test('small answers are sent whole and large ones streamed: both intact, with their length and engine time', async (t) => {
  const simulator = await useSimulator(t);
  const gw = await startGateway(t, simulatorConfig(simulator));
  for (const rows of [1, 400]) {
    const answer = await infer(gw.url, 'ccfraud', ccfraudBody(rows));
    assert.equal(answer.status, 200);
    const body = answer.json<Array<{ out: { dense_1: number[] } }>>();
    assert.equal(body.length, rows);
    if (rows === 400) assert.ok(answer.body.length > 64 * 1024, `a ${answer.body.length}-byte answer takes the streaming path`);
    const line = gw.logs.filter((l) => l.msg === 'request').at(-1)!;
    assert.equal(line.status, 200);
    assert.equal(line.bytesOut, answer.body.length);
    assert.equal(typeof line.engineMs, 'number', JSON.stringify(line));
  }
});

test('a small answer that breaks off mid-body is a coded 502, never a truncated 200', async (t) => {
  const simulator = await useSimulator(t);
  // Promises 1,000 bytes, sends 100, then drops the connection.
  const port = await listenRaw(t, (socket) =>
    socket.once('data', () => {
      socket.write('HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 1000\r\n\r\n[{"time":1,"out":{"dense_1":[0.1]}');
      setTimeout(() => socket.destroy(), 20);
    }),
  );
  const gw = await startGateway(t, standInConfig(simulator, port, { name: 'cut' }));
  const answer = await infer(gw.url, 'cut', ccfraudBody());
  assert.equal(answer.status, 502);
  assert.equal(answer.json<{ code: string }>().code, 'GW_UPSTREAM_UNREACHABLE');
  assert.ok(answer.headers['x-request-id']);
});
