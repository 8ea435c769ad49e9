import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { type TestContext, test } from 'node:test';
import { parseArrowTypeSpec } from '../../src/convert/index.ts';
import { ccfraudBody, sample } from '../helpers/data.ts';
import { simulatorConfig, startGateway } from '../helpers/gateway.ts';
import { ARROW_FILE, infer, JSON_RECORDS } from '../helpers/http.ts';
import { pipelineStatus } from '../helpers/pipelines.ts';
import { assertRefusedResponsively, watchGateway } from '../helpers/responsiveness.ts';
import { useSimulator } from '../helpers/simulator.ts';
import { waitFor } from '../helpers/wait.ts';

// A conversion's working memory is part of the buffer budget, charged before the work (SECURITY.md, "Budgets"):
// the values a JSON body holds are counted by the scan before JSON.parse, and the body's bytes plus an estimate
// of 64 bytes a value (and the text, and string values' characters) are reserved first. A body that could never
// fit server.bufferBudget is 413 GW_BODY_TOO_COMPLEX at once; one that does not fit now is 503 GW_OVERLOADED.
// Arrow -> JSON charges its JSON text before each time it grows.

const TENSOR = { tensor: 'fixed_size_list<float32>[29]' };
const MiB = 1024 * 1024;

/** `[{"a":[1,1,...,1]}]` with `count` ones, built as a Buffer (no string of that size in the test). */
function denseBody(count: number): Buffer {
  const head = '[{"a":[';
  const tail = '1]}]';
  const body = Buffer.alloc(head.length + 2 * (count - 1) + tail.length, '1,');
  body.write(head, 0, 'latin1');
  body.write(tail, body.length - tail.length, 'latin1');
  return body;
}

/** Starts an upload declaring `bytes` and sends only its first byte: the gateway reserves the declared size. */
function startUpload(t: TestContext, gatewayUrl: string, bytes: number): Promise<Socket> {
  const { hostname, port } = new URL(gatewayUrl);
  return new Promise((resolve) => {
    const socket = connect(Number(port), hostname, () => {
      socket.write(`POST /pipelines/summary/infer HTTP/1.1\r\nHost: gw\r\nContent-Type: application/json\r\nContent-Length: ${bytes}\r\n\r\n[`);
      resolve(socket);
    });
    socket.on('error', () => undefined);
    t.after(() => socket.destroy());
  });
}

test('a 48 MB body of 24 million values bound for Arrow is 413 GW_BODY_TOO_COMPLEX before JSON.parse, its estimate past server.bufferBudget', async (t) => {
  const simulator = await useSimulator(t);
  const gw = await startGateway(t, simulatorConfig(simulator, { pipelines: [{ name: 'toArrow', workspace: 'demo', pipeline: 'summary', upstreamFormat: 'arrow' }] }));
  const count = 24_000_000;
  const body = denseBody(count);
  const values = count + 3; // the ones, the outer array, the row object, the list
  const estimate = body.length + 64 * values; // the text, then 64 bytes a value
  const watched = await watchGateway(gw.url, () => infer(gw.url, 'toArrow', body));
  assertRefusedResponsively(watched, {
    statusCode: 413,
    code: 'GW_BODY_TOO_COMPLEX',
    message:
      `converting the JSON body's ${values} values takes an estimated ${estimate} bytes (64 a value, the text and its strings): ` +
      `with the body's ${body.length} bytes that is more than server.bufferBudget (268435456 bytes) holds`,
  }, body.length, gw.config.server.bodyLimit);
  assert.equal(simulator.control.counts.inference, 0, 'nothing reached Wallaroo');
  // What the process held at its peak: the body as read, its text and the scan; JSON.parse alone of this body
  // took more than 10 x its size (the conversion 600-750 MiB of RSS before the charge existed).
  assert.ok(watched.rssGrowth <= 5 * body.length, `peak RSS grew ${(watched.rssGrowth / MiB).toFixed(0)} MiB for a ${(body.length / MiB).toFixed(0)} MiB body`);
});

test('a conversion that fits server.bufferBudget but not what is free now is 503 GW_OVERLOADED, and converts once the budget is free', async (t) => {
  const simulator = await useSimulator(t);
  const gw = await startGateway(t, simulatorConfig(simulator, {
    server: { bufferBudget: '16MiB', bodyTimeoutMs: 60_000 },
    pipelines: [
      { name: 'toArrow', workspace: 'demo', pipeline: 'summary', upstreamFormat: 'arrow' },
      { name: 'summary', workspace: 'demo' },
    ],
  }));
  const body = ccfraudBody(4_000); // ~2 MB of text, ~12 MB with its estimate: fits 16 MiB, not the 8 MiB left
  const upload = await startUpload(t, gw.url, 8 * MiB);
  await waitFor(async () => (await pipelineStatus(gw.url, 'summary')).inflight === 1, 'an upload holding 8 MiB');

  const refused = await infer(gw.url, 'toArrow', body);
  assert.equal(refused.status, 503, refused.text);
  assert.deepEqual(refused.json(), {
    statusCode: 503,
    code: 'GW_OVERLOADED',
    error: 'Service Unavailable',
    message: `the gateway holds ${8 * MiB + body.length} bytes of request and answer data (server.bufferBudget ${16 * MiB}); retry shortly`,
  });
  assert.equal(refused.headers['retry-after'], '1');
  assert.equal(simulator.control.counts.inference, 0, 'nothing reached Wallaroo');

  upload.destroy();
  await waitFor(async () => (await pipelineStatus(gw.url, 'summary')).inflight === 0, 'the upload to end');
  const converted = await infer(gw.url, 'toArrow', body);
  assert.equal(converted.status, 200, converted.text);
  assert.equal(simulator.control.counts.inference, 1);
});

test('Arrow -> JSON charges its JSON text before it grows: past server.bufferBudget it is 413 GW_BODY_TOO_COMPLEX', async (t) => {
  const simulator = await useSimulator(t);
  const gw = await startGateway(t, simulatorConfig(simulator, {
    server: { bufferBudget: '2MiB' },
    pipelines: [{ name: 'ccfraud', workspace: 'demo', upstreamFormat: 'json', inputSchema: TENSOR }],
  }));
  const arrow = sample('cc_data_10k.arrow'); // 1,190,564 bytes, 10,254 rows: the text starts at 64 bytes a row
  const answer = await infer(gw.url, 'ccfraud', arrow, { 'content-type': ARROW_FILE });
  assert.equal(answer.status, 413, answer.text);
  assert.deepEqual(answer.json(), {
    statusCode: 413,
    code: 'GW_BODY_TOO_COMPLEX',
    error: 'Payload Too Large',
    message: "the JSON text growing to 1312512 bytes: with the body's 1190564 bytes that is more than server.bufferBudget (2097152 bytes) holds",
  });
  assert.equal(simulator.control.counts.inference, 0);
});

test("honest data still converts under the default budget: Wallaroo's tutorial files both ways and 16 MB of 29-float tensors", async (t) => {
  const simulator = await useSimulator(t);
  const gw = await startGateway(t, simulatorConfig(simulator, {
    pipelines: [
      { name: 'ccfraud', workspace: 'demo', upstreamFormat: 'arrow', inputSchema: TENSOR },
      { name: 'ccfraudJson', workspace: 'demo', pipeline: 'ccfraud', upstreamFormat: 'json', inputSchema: TENSOR },
    ],
  }));
  assert.ok(parseArrowTypeSpec(TENSOR.tensor));
  const pandas = await infer(gw.url, 'ccfraud', sample('cc_data_1k.df.json'));
  assert.equal(pandas.status, 200, pandas.text);
  assert.equal(pandas.json<unknown[]>().length, 1001);

  const arrow = await infer(gw.url, 'ccfraudJson', sample('cc_data_10k.arrow'), { 'content-type': ARROW_FILE, accept: JSON_RECORDS });
  assert.equal(arrow.status, 200, arrow.text);
  assert.equal(arrow.json<unknown[]>().length, 10_254);

  const rows = 34_000; // about 16 MB
  const tensors = ccfraudBody(rows);
  assert.ok(tensors.length > 15_000_000, `${tensors.length} bytes`);
  const big = await infer(gw.url, 'ccfraud', tensors);
  assert.equal(big.status, 200, big.text.slice(0, 300));
  assert.equal(big.json<unknown[]>().length, rows);
  assert.equal(simulator.control.counts.inference, 3);
});
