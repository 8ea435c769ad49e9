import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ccfraudBody } from '../helpers/data.ts';
import { standInConfig, startGateway } from '../helpers/gateway.ts';
import { ARROW_FILE, infer, JSON_RECORDS } from '../helpers/http.ts';
import { manyColumnsArrowStream } from '../helpers/hostile-bodies.ts';
import { listenRaw } from '../helpers/raw-http.ts';
import { assertStayedResponsive, watchGateway } from '../helpers/responsiveness.ts';
import { useSimulator } from '../helpers/simulator.ts';

// Engine time is read from every passthrough answer, so the reader is on the hot path and faces whatever
// Wallaroo (or something in its place) sends: it must stay bounded in time and memory, report nothing it
// cannot read, and never touch the answer the caller gets.
test('hostile answers read for engine time: refused quickly, no sample, the answer passed on intact', async (t) => {
  const simulator = await useSimulator(t);
  let answer: { type: string; body: Buffer } = { type: JSON_RECORDS, body: Buffer.alloc(0) };
  const port = await listenRaw(t, (socket) => {
    let head = '';
    socket.on('data', (data) => {
      head += data.toString('latin1');
      if (!head.includes('\r\n\r\n')) return;
      head = '';
      socket.write(`HTTP/1.1 200 OK\r\ncontent-type: ${answer.type}\r\ncontent-length: ${answer.body.length}\r\n\r\n`);
      socket.write(answer.body);
    });
  });
  const bodyLimit = 8 * 1024 * 1024;
  const gw = await startGateway(t, {
    ...standInConfig(simulator, port, { name: 'hostile' }),
    server: { host: '127.0.0.1', port: 0, bodyLimit, maxEventLoopDelayMs: 0 },
  });
  const cases: Array<[string, { type: string; body: Buffer }, Record<string, string>]> = [
    // 60,000 columns (4 MB, under the 4 MiB kept for reading): the column cap stops the read.
    ['an Arrow answer of 60,000 columns', { type: ARROW_FILE, body: manyColumnsArrowStream(60_000) }, { accept: ARROW_FILE }],
    // An elapsed list that never closes: at most 1 KiB of it is looked at.
    ['an elapsed list that never ends', { type: JSON_RECORDS, body: Buffer.from(`[{"metadata":{"elapsed":[${'1'.repeat(10_000_000)}`) }, {}],
    // 20 MB without any metadata: the search stops after 8 MiB.
    ['20 MB without metadata', { type: JSON_RECORDS, body: Buffer.from(`[${'{"out":{"dense_1":[0.5]}},'.repeat(800_000)}{}]`) }, {}],
  ];
  for (const [name, hostile, headers] of cases) {
    answer = hostile;
    const watched = await watchGateway(gw.url, () => infer(gw.url, 'hostile', ccfraudBody(), headers));
    assert.equal(watched.value.status, 200, name);
    assert.ok(watched.value.body.equals(hostile.body), `${name}: passed on intact`);
    assertStayedResponsive(watched, hostile.body.length, bodyLimit);
  }
  const metric = await gw.registry.getSingleMetric('wallaroo_gateway_engine_elapsed_seconds')!.get();
  const count = metric.values.find((v) => (v as { metricName?: string }).metricName === 'wallaroo_gateway_engine_elapsed_seconds_count');
  assert.equal(count?.value ?? 0, 0, 'no engine time reported from any of them');
});
