import assert from 'node:assert/strict';
import { STATUS_CODES } from 'node:http';
import { test } from 'node:test';
import { simulatorConfig, startGateway } from '../helpers/gateway.ts';
import { jsonBodyOf, rawExchange, statusOf } from '../helpers/raw-http.ts';
import { useSimulator } from '../helpers/simulator.ts';

// Issue 15, F2: a 60 MB `[[[...]]]` to an OpenAI route took 2.9 GB and stalled 14 s. Chat and completion
// requests are small: the OpenAI routes have their own limit, server.openAiBodyLimit (1 MiB by default).
const SIXTY_MB = 60_000_000;
const deepPrefix = Buffer.alloc(64 * 1024, '['); // the start of 30 million '[' and as many ']'
const route = 'POST /pipelines/llm/openai/v1/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n';

test('the OpenAI routes refuse a body over server.openAiBodyLimit with 413, declared or streamed', async (t) => {
  const simulator = await useSimulator(t);
  const gw = await startGateway(t, simulatorConfig(simulator, { pipelines: [{ name: 'llm', workspace: 'demo' }] }));
  assert.equal(gw.config.server.openAiBodyLimit, 1024 * 1024);

  const declared = await rawExchange(gw.url, [`${route}Content-Length: ${SIXTY_MB}\r\n\r\n`, deepPrefix], { waitMs: 10_000 });
  assert.equal(statusOf(declared.text), 413, declared.text.slice(0, 300));
  assert.deepEqual(jsonBodyOf(declared.text), {
    statusCode: 413, code: 'GW_BODY_TOO_LARGE', error: STATUS_CODES[413], message: `the body is ${SIXTY_MB} bytes; the limit is 1048576`,
  });

  // Without a length, the count stops the read just past the limit.
  const chunk = (bytes: Buffer) => Buffer.concat([Buffer.from(`${bytes.length.toString(16)}\r\n`), bytes, Buffer.from('\r\n')]);
  const streamed = await rawExchange(gw.url, [`${route}Transfer-Encoding: chunked\r\n\r\n`, ...Array.from({ length: 17 }, () => chunk(deepPrefix))], { waitMs: 10_000 });
  assert.equal(statusOf(streamed.text), 413, streamed.text.slice(0, 300));
  assert.deepEqual(jsonBodyOf(streamed.text), {
    statusCode: 413, code: 'GW_BODY_TOO_LARGE', error: STATUS_CODES[413], message: 'the body exceeds the limit of 1048576 bytes',
  });
  assert.equal(simulator.control.counts.inference, 0, 'nothing reached Wallaroo');
});
