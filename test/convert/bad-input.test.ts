import assert from 'node:assert/strict';
import { test } from 'node:test';
import { jsonToArrow, parseInputSchema } from '../../src/convert/index.ts';
import { ccfraudBody } from '../helpers/data.ts';
import { simulatorConfig, startGateway } from '../helpers/gateway.ts';
import { ARROW_FILE, ARROW_STREAM, infer, JSON_RECORDS } from '../helpers/http.ts';
import { useSimulator } from '../helpers/simulator.ts';

test('bad bodies get coded 400/415/406 answers while other requests in flight are unaffected', async (t) => {
  const simulator = await useSimulator(t);
  const gw = await startGateway(t, simulatorConfig(simulator, {
    pipelines: [
      { name: 'ccfraud', workspace: 'demo', upstreamFormat: 'arrow', inputSchema: { tensor: 'fixed_size_list<float32>[29]' } },
      // Arrow bodies sent here must be read by the gateway (Wallaroo receives JSON).
      { name: 'ccjson', workspace: 'demo', pipeline: 'ccfraud', upstreamFormat: 'json' },
    ],
  }));
  const good = Buffer.from(jsonToArrow(ccfraudBody(2), 'file', { schema: parseInputSchema({ tensor: 'fixed_size_list<float32>[29]' }) }));
  const cases: Array<[string, Buffer | string, Record<string, string>, number, string, RegExp?, string?]> = [
    ['malformed JSON', '[{"tensor":[1,2', {}, 400, 'GW_INVALID_JSON'],
    ['JSON not an array of rows', '{"tensor":[1]}', {}, 400, 'GW_INVALID_JSON'],
    ['empty body', '', {}, 400, 'GW_EMPTY_BODY'],
    ['ragged tensor', JSON.stringify([{ tensor: Array(29).fill(1) }, { tensor: Array(28).fill(1) }]), {}, 400, 'GW_SCHEMA_MISMATCH', /^row 1, column "tensor": expected 29 values/],
    ['truncated Arrow', good.subarray(0, good.length - 40), { 'content-type': ARROW_FILE, accept: JSON_RECORDS }, 400, 'GW_INVALID_ARROW', /truncated/, 'ccjson'],
    ['corrupt Arrow', Buffer.concat([good.subarray(0, 8), Buffer.alloc(300, 7), good.subarray(-16)]), { 'content-type': ARROW_FILE, accept: JSON_RECORDS }, 400, 'GW_INVALID_ARROW', undefined, 'ccjson'],
    ['not Arrow at all', 'hello world, not arrow', { 'content-type': ARROW_STREAM }, 400, 'GW_INVALID_ARROW'],
    ['wrong content type', 'a,b\n1,2', { 'content-type': 'text/csv' }, 415, 'GW_UNSUPPORTED_MEDIA_TYPE'],
    ['missing content type', '[]', { 'content-type': '' }, 415, 'GW_UNSUPPORTED_MEDIA_TYPE'],
    ['unacceptable Accept', ccfraudBody(), { accept: 'text/html' }, 406, 'GW_NOT_ACCEPTABLE'],
  ];
  // Slow good requests stay in flight while the bad ones are refused.
  simulator.control.latencyMs = 150;
  const inFlight = Array.from({ length: 5 }, () => infer(gw.url, 'ccfraud', ccfraudBody(2)));
  for (const [name, body, headers, status, code, message, pipeline] of cases) {
    const answer = await infer(gw.url, pipeline ?? 'ccfraud', body, headers);
    assert.equal(answer.status, status, `${name}: ${answer.text}`);
    const error = answer.json<{ code: string; message: string; statusCode: number }>();
    assert.equal(error.code, code, name);
    assert.equal(error.statusCode, status, name);
    if (message) assert.match(error.message, message, name);
    assert.doesNotMatch(answer.text, /at .*\.(ts|js):\d+/, 'no stack trace');
  }
  assert.deepEqual((await Promise.all(inFlight)).map((a) => a.status), [200, 200, 200, 200, 200]);

  // A corrupt Arrow body that needs no conversion streams to Wallaroo untouched; Wallaroo's refusal (a 500
  // before 2025, a 400 since) comes back as is.
  const refusal = simulator.control.profile.error('bad-input', 'the input');
  const passthrough = await infer(gw.url, 'ccfraud', good.subarray(0, good.length - 40), { 'content-type': ARROW_FILE });
  assert.equal(passthrough.status, refusal.status);
  assert.equal(passthrough.headers['x-gateway-upstream-status'], String(refusal.status));
  assert.match(passthrough.text, /Error reading the Arrow body/);
  assert.equal((await infer(gw.url, 'ccfraud', good, { 'content-type': ARROW_FILE })).status, 200, 'still serving');
});
