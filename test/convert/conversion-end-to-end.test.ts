import assert from 'node:assert/strict';
import { test } from 'node:test';
import { arrowToJson, jsonToArrow, parseInputSchema } from '../../src/convert/index.ts';
import { ccfraudScore } from '../../src/simulator/models.ts';
import { ccfraudRows, sample } from '../helpers/data.ts';
import { simulatorConfig, startGateway } from '../helpers/gateway.ts';
import { ARROW_FILE, ARROW_STREAM, infer, JSON_RECORDS } from '../helpers/http.ts';
import { useSimulator } from '../helpers/simulator.ts';

const TENSOR = { tensor: 'fixed_size_list<float32>[29]' };
const rows = ccfraudRows(4);
const jsonBody = JSON.stringify(rows);
const arrowBody = Buffer.from(jsonToArrow(jsonBody, 'file', { schema: parseInputSchema(TENSOR) }));
const expectedScores = rows.map((r) => ccfraudScore(r.tensor.map(Math.fround)));

function assertClose(actual: number[], expected: number[], what: string): void {
  assert.equal(actual.length, expected.length, what);
  actual.forEach((value, i) => {
    assert.ok(Math.abs(value - expected[i]!) < 1e-6, `${what}: row ${i}: ${value} vs ${expected[i]}`);
  });
}

function scoresOf(contentType: string | undefined, body: Buffer): number[] {
  const json = contentType?.startsWith('application/json') ? body.toString() : arrowToJson(body).toString();
  return (JSON.parse(json) as Array<{ out: { dense_1: number[] } }>).map((r) => r.out.dense_1[0]!);
}

for (const upstreamFormat of ['passthrough', 'arrow', 'json'] as const) {
  test(`upstreamFormat ${upstreamFormat}: JSON/Arrow in x JSON/Arrow out all give the model's predictions`, async (t) => {
    const simulator = await useSimulator(t);
    const gw = await startGateway(t, simulatorConfig(simulator, { pipelines: [{ name: 'ccfraud', workspace: 'demo', upstreamFormat, inputSchema: TENSOR }] }));
    for (const [sent, body] of [[JSON_RECORDS, jsonBody], [ARROW_FILE, arrowBody]] as const) {
      for (const wanted of [JSON_RECORDS, ARROW_FILE]) {
        const answer = await infer(gw.url, 'ccfraud', body, { 'content-type': sent, accept: wanted });
        assert.equal(answer.status, 200, `${sent} -> ${wanted}: ${answer.text.slice(0, 200)}`);
        assert.equal(answer.headers['content-type'], wanted);
        const scores = scoresOf(String(answer.headers['content-type']), answer.body);
        // JSON into Wallaroo runs the model on float64 inputs, Arrow on float32: equal within a float32 ulp.
        assertClose(scores, expectedScores, `${sent} -> ${wanted}`);
        const received = String(simulator.control.seen.at(-1)!.headers['content-type']);
        const expectedUpstream = upstreamFormat === 'arrow' ? ARROW_FILE : upstreamFormat === 'json' ? JSON_RECORDS : sent;
        assert.equal(received, expectedUpstream, 'what Wallaroo received');
      }
    }
  });
}

test("without Accept (or with a wildcard) the caller gets Wallaroo's default answer, pandas-records JSON, as when calling Wallaroo directly", async (t) => {
  const simulator = await useSimulator(t);
  const gw = await startGateway(t, simulatorConfig(simulator, { pipelines: [{ name: 'ccfraud', workspace: 'demo', upstreamFormat: 'arrow', inputSchema: TENSOR }] }));
  const stream = Buffer.from(jsonToArrow(jsonBody, 'stream', { schema: parseInputSchema(TENSOR) }));
  for (const [sent, body] of [[JSON_RECORDS, jsonBody], [ARROW_FILE, arrowBody], [ARROW_STREAM, stream]] as const) {
    for (const accept of [undefined, '*/*']) {
      const answer = await infer(gw.url, 'ccfraud', body, { 'content-type': sent, ...(accept ? { accept } : {}) });
      assert.equal(answer.status, 200, answer.text);
      assert.equal(answer.headers['content-type'], JSON_RECORDS, `${sent}, Accept ${accept}`);
      assertClose(scoresOf(JSON_RECORDS, answer.body), expectedScores, `${sent}, Accept ${accept}`);
      assert.equal(simulator.control.seen.at(-1)!.headers.accept, JSON_RECORDS, 'Wallaroo was asked for its default');
    }
  }
  const conversions = await gw.registry.getSingleMetric('wallaroo_gateway_conversion_duration_seconds')!.get();
  const directions = conversions.values.filter((v) => (v as { metricName?: string }).metricName?.endsWith('_count')).map((v) => String(v.labels.direction));
  assert.deepEqual(directions.sort(), ['arrow-stream->arrow-file', 'json->arrow-file'], 'requests converted for Wallaroo, answers never');
});

test('the Arrow stream format is converted at the edge both ways (Wallaroo only speaks the file format)', async (t) => {
  const simulator = await useSimulator(t);
  const gw = await startGateway(t, simulatorConfig(simulator, { pipelines: [{ name: 'ccfraud', workspace: 'demo', inputSchema: TENSOR }] }));
  const stream = Buffer.from(jsonToArrow(jsonBody, 'stream', { schema: parseInputSchema(TENSOR) }));
  const answer = await infer(gw.url, 'ccfraud', stream, { 'content-type': ARROW_STREAM, accept: ARROW_STREAM });
  assert.equal(answer.status, 200, answer.text);
  assert.equal(answer.headers['content-type'], ARROW_STREAM);
  assert.equal(answer.body.readUInt32LE(0), 0xffffffff, 'stream continuation marker');
  assertClose(scoresOf(ARROW_STREAM, answer.body), expectedScores, 'arrow stream');
  assert.equal(simulator.control.seen.at(-1)!.headers['content-type'], ARROW_FILE);
});

test("without an inputSchema, JSON -> Arrow infers float64 and Wallaroo's schema check refuses it (the reason inputSchema exists)", async (t) => {
  const simulator = await useSimulator(t);
  const gw = await startGateway(t, simulatorConfig(simulator, { pipelines: [{ name: 'ccfraud', workspace: 'demo', upstreamFormat: 'arrow' }] }));
  const answer = await infer(gw.url, 'ccfraud', jsonBody);
  const refusal = simulator.control.profile.error('bad-input', 'Error getting tensor from inference data');
  assert.equal(answer.status, refusal.status);
  assert.equal(answer.headers['x-gateway-upstream-status'], String(refusal.status));
  assert.equal(answer.text, refusal.body);
});

test('a real tutorial file (1,001 rows of pyarrow Arrow) in, pandas-records out', async (t) => {
  const simulator = await useSimulator(t);
  const gw = await startGateway(t, simulatorConfig(simulator));
  const answer = await infer(gw.url, 'ccfraud', sample('cc_data_1k.arrow'), { 'content-type': ARROW_FILE, accept: JSON_RECORDS });
  assert.equal(answer.status, 200);
  const out = answer.json<Array<{ out: { dense_1: number[] } }>>();
  assert.equal(out.length, 1001);
  const input = JSON.parse(arrowToJson(sample('cc_data_1k.arrow')).toString()) as Array<{ tensor: number[] }>;
  // Wallaroo prints the float32 output in its shortest form, which reads back to the same float32.
  assert.equal(Math.fround(out[500]!.out.dense_1[0]!), ccfraudScore(input[500]!.tensor.map(Math.fround)));
  const conversions = async () => {
    const metric = await gw.registry.getSingleMetric('wallaroo_gateway_conversion_duration_seconds')!.get();
    return Object.fromEntries(metric.values.filter((v) => (v as { metricName?: string }).metricName?.endsWith('_count')).map((v) => [String(v.labels.direction), v.value]));
  };
  assert.deepEqual(await conversions(), {}, 'no conversion: Wallaroo answered JSON itself');
  const asStream = await infer(gw.url, 'ccfraud', sample('cc_data_1k.arrow'), { 'content-type': ARROW_FILE, accept: ARROW_STREAM });
  assert.equal(asStream.status, 200);
  assert.deepEqual(await conversions(), { 'arrow-file->arrow-stream': 1 });
});
