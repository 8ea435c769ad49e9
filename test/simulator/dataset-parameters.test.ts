import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type Struct, tableFromIPC, Type } from 'apache-arrow';
import { ccfraudBody } from '../helpers/data.ts';
import { ARROW_FILE, call, JSON_RECORDS } from '../helpers/http.ts';
import { simulatorToken, useSimulator } from '../helpers/simulator.ts';

test('dataset parameters pick, drop and flatten fields, dotted paths included, alike in JSON and Arrow answers', async (t) => {
  const simulator = await useSimulator(t);
  const token = await simulatorToken(simulator, 'service-account');
  const check = simulator.control.profile.checkColumn;
  const url = simulator.control.inferenceUrl('ccfraud');
  const fields = async (query: string) => {
    const headers = { authorization: token, 'content-type': JSON_RECORDS };
    const json = await call(`${url}?${query}`, { method: 'POST', headers, body: ccfraudBody() });
    const arrow = await call(`${url}?${query}`, { method: 'POST', headers: { ...headers, accept: ARROW_FILE }, body: ccfraudBody() });
    const row = json.json<Array<Record<string, unknown>>>()[0]!;
    const nested = (key: string, value: unknown) => (value && typeof value === 'object' && !Array.isArray(value) ? Object.keys(value).map((k) => `${key}/${k}`) : [key]);
    const jsonFields = Object.entries(row).flatMap(([key, value]) => nested(key, value));
    const arrowFields = tableFromIPC(arrow.body).schema.fields.flatMap((f) => (f.typeId === Type.Struct ? (f.type as Struct).children.map((c) => `${f.name}/${c.name}`) : [f.name]));
    // The same fields in both, but for metadata the recorded Arrow answer lacks (2023.4's is narrower).
    const inArrow = (field: string) => !/^metadata[/.]/.test(field) || simulator.control.profile.arrowMetadataFields.some((m) => field.endsWith(m));
    assert.deepEqual(arrowFields, jsonFields.filter(inArrow), `${query}: Arrow and JSON carry the same fields`);
    return jsonFields;
  };
  const metadata = simulator.control.profile.metadataFields;
  const checkFields = check === 'anomaly' ? ['anomaly/count'] : ['check_failures'];

  assert.deepEqual(await fields('dataset[]=out'), ['out/dense_1']);
  assert.deepEqual(await fields('dataset[]=time&dataset[]=metadata.elapsed'), ['time', 'metadata/elapsed']);
  assert.deepEqual(await fields('dataset.exclude[]=metadata&dataset.exclude[]=in'), ['time', 'out/dense_1', ...checkFields]);
  assert.deepEqual(await fields('dataset[]=metadata&dataset.exclude[]=metadata.last_model'), metadata.filter((f) => f !== 'last_model').map((f) => `metadata/${f}`));
  // The SDK's own query: everything but metadata, flattened with ".".
  const sdk = await fields('dataset[]=*&dataset.exclude[]=metadata&dataset.separator=.');
  assert.deepEqual(sdk, ['time', 'in.tensor', 'out.dense_1', check === 'anomaly' ? 'anomaly.count' : 'check_failures']);
  // dataset.flatten=true is documented from 2025; older engines ignore it.
  const flattened = await fields('dataset[]=out&dataset[]=metadata.partition&dataset.flatten=true');
  assert.deepEqual(flattened, simulator.control.profile.datasetFlatten ? ['out.dense_1', 'metadata.partition'] : ['out/dense_1', 'metadata/partition']);
});
