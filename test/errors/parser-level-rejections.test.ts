import assert from 'node:assert/strict';
import { test } from 'node:test';
import { simulatorConfig, startGateway } from '../helpers/gateway.ts';
import { call } from '../helpers/http.ts';
import { rawExchange, statusOf } from '../helpers/raw-http.ts';
import { useSimulator } from '../helpers/simulator.ts';

// Issue 15, F14: what Node's HTTP parser (or Node itself) refuses before any route runs answered with the
// gateway's error body, a GW code and the connection closed; never Node's or Fastify's own body.

const INFER = 'POST /pipelines/ccfraud/infer HTTP/1.1\r\nHost: gw\r\nContent-Type: application/json\r\n';

const CASES: Array<{ name: string; raw: string; status: number; code: string; message: string }> = [
  {
    name: 'Content-Length with Transfer-Encoding (ambiguous framing)',
    raw: `${INFER}Content-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n`,
    status: 400, code: 'GW_BAD_FRAMING', message: 'Transfer-Encoding is not chunked or comes with Content-Length: the body length is ambiguous',
  },
  {
    name: 'two Content-Length headers',
    raw: `${INFER}Content-Length: 3\r\nContent-Length: 4\r\n\r\n[1]`,
    status: 400, code: 'GW_BAD_FRAMING', message: 'Content-Length is repeated or sent with Transfer-Encoding: the body length is ambiguous',
  },
  {
    name: 'a Content-Length that is not a number',
    raw: `${INFER}Content-Length: abc\r\n\r\n`,
    status: 400, code: 'GW_BAD_FRAMING', message: 'Content-Length is not a single non-negative integer',
  },
  {
    name: 'a malformed chunk size',
    raw: `${INFER}Transfer-Encoding: chunked\r\n\r\nzz\r\n`,
    status: 400, code: 'GW_BAD_FRAMING', message: 'a chunk size in the chunked body is malformed',
  },
  {
    name: 'headers larger than the limit (431)',
    raw: `GET /healthz HTTP/1.1\r\nHost: gw\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`,
    status: 431, code: 'GW_HEADERS_TOO_LARGE',
    message: "The request line and headers exceed the HTTP server's header size limit (Node's, 16 KiB by default); the connection is closed.",
  },
  {
    name: 'an Expect other than 100-continue (417)',
    raw: `${INFER}Expect: 200-ok\r\nContent-Length: 3\r\n\r\n`,
    status: 417, code: 'GW_EXPECTATION_FAILED', message: 'only Expect: 100-continue is supported',
  },
  {
    name: 'an HTTP/1.1 request without Host',
    raw: 'GET /healthz HTTP/1.1\r\n\r\n',
    status: 400, code: 'GW_BAD_REQUEST', message: 'an HTTP/1.1 request needs a Host header',
  },
  {
    name: 'a request line that is not HTTP',
    raw: 'GARBAGE\r\n\r\n',
    status: 400, code: 'GW_BAD_REQUEST', message: 'the request line or a header is malformed HTTP/1.1',
  },
  {
    name: 'an unknown method token',
    raw: 'FOO /healthz HTTP/1.1\r\nHost: gw\r\n\r\n',
    status: 400, code: 'GW_BAD_REQUEST', message: 'the request line or a header is malformed HTTP/1.1',
  },
];

test('parser-level rejections answer the gateway error shape with a GW code and close the connection', async (t) => {
  const simulator = await useSimulator(t);
  const gateway = await startGateway(t, simulatorConfig(simulator));
  for (const { name, raw, status, code, message } of CASES) {
    const answer = await rawExchange(gateway.url, [raw], { waitMs: 10_000 });
    assert.equal(answer.closed, true, `${name}: connection closed`);
    assert.equal(statusOf(answer.text), status, name);
    const [head = '', body = ''] = answer.text.split('\r\n\r\n');
    assert.match(head, /\r\ncontent-type: application\/json; charset=utf-8\r\n/i, name);
    assert.match(head, /\r\nconnection: close(\r\n|$)/i, name);
    assert.deepEqual(JSON.parse(body), { statusCode: status, code, error: answer.text.slice(13, head.indexOf('\r\n')), message }, name);
  }
  assert.equal((await call(`${gateway.url}/healthz`)).status, 200);
});
