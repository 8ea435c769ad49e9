import assert from 'node:assert/strict';
import { test } from 'node:test';
import { simulatorConfig, startGateway } from '../helpers/gateway.ts';
import { jsonBodyOf, rawExchange, statusOf } from '../helpers/raw-http.ts';
import { useSimulator } from '../helpers/simulator.ts';

// Node's parser accepts `Transfer-Encoding: gzip, chunked` and undoes only the chunking, so the compressed bytes
// would reach Wallaroo as the body. A transfer coding other than chunked is refused before anything is sent.
test('Transfer-Encoding other than chunked (gzip, chunked) is 400 GW_BAD_FRAMING and never reaches Wallaroo', async (t) => {
  const simulator = await useSimulator(t);
  const gw = await startGateway(t, simulatorConfig(simulator, { pipelines: [{ name: 'ccfraud', workspace: 'demo' }, { name: 'llm', workspace: 'demo' }] }));
  for (const path of ['/pipelines/ccfraud/infer', '/pipelines/llm/openai/v1/chat/completions']) {
    const head = `POST ${path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: gzip, chunked\r\n\r\n`;
    const answer = await rawExchange(gw.url, [head, '5\r\n[{"a"\r\n4\r\n:1}]\r\n0\r\n\r\n'], { waitMs: 10_000, untilAnswer: true });
    assert.equal(statusOf(answer.text), 400, `${path}: ${answer.text.slice(0, 300)}`);
    assert.match(answer.text, /\r\nconnection: close\r\n/i);
    assert.deepEqual(jsonBodyOf(answer.text), {
      statusCode: 400, code: 'GW_BAD_FRAMING', error: 'Bad Request',
      message: 'Transfer-Encoding "gzip, chunked" is not supported: send the body chunked only (a compressed body says so in Content-Encoding)',
    });
  }
  assert.equal(simulator.control.counts.inference, 0, 'nothing reached Wallaroo');
});
