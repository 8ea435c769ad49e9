import assert from 'node:assert/strict';
import { test } from 'node:test';
import { simulatorConfig, startGateway } from '../helpers/gateway.ts';
import { jsonBodyOf, rawExchange, statusOf } from '../helpers/raw-http.ts';
import { useSimulator } from '../helpers/simulator.ts';

// A request with neither Content-Length nor Transfer-Encoding has a zero-length body (RFC 9112 6.3): it is as
// empty as one with Content-Length: 0, and both are 400 GW_EMPTY_BODY before anything is sent to Wallaroo, on
// a passthrough pipeline's inference route and on the OpenAI-compatible routes alike.

const EMPTY = { statusCode: 400, code: 'GW_EMPTY_BODY', error: 'Bad Request', message: 'the request body is empty' };

test('an empty body is 400 GW_EMPTY_BODY whether it says Content-Length: 0 or nothing at all', async (t) => {
  const simulator = await useSimulator(t);
  const gw = await startGateway(t, simulatorConfig(simulator, {
    pipelines: [{ name: 'ccfraud', workspace: 'demo', upstreamFormat: 'passthrough' }, { name: 'llm', workspace: 'demo' }],
  }));
  const routes = [
    'POST /pipelines/ccfraud/infer HTTP/1.1\r\nHost: x\r\nContent-Type: application/json; format=pandas-records\r\n',
    'POST /pipelines/ccfraud/infer HTTP/1.1\r\nHost: x\r\nContent-Type: application/vnd.apache.arrow.file\r\n',
    'POST /pipelines/llm/openai/v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n',
    'POST /pipelines/llm/openai/v1/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n',
  ];
  for (const route of routes) {
    for (const length of ['', 'Content-Length: 0\r\n']) {
      const name = `${route.split('\r\n')[0]} ${length ? 'Content-Length: 0' : 'no Content-Length, no Transfer-Encoding'}`;
      const answer = await rawExchange(gw.url, [`${route}${length}\r\n`], { waitMs: 10_000, untilAnswer: true });
      assert.equal(statusOf(answer.text), 400, `${name}: ${answer.text.slice(0, 300)}`);
      assert.deepEqual(jsonBodyOf(answer.text), EMPTY, name);
    }
  }
  assert.equal(simulator.control.counts.inference, 0, 'nothing reached Wallaroo');
});
