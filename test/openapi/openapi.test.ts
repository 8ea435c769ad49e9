import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import SwaggerParser from '@apidevtools/swagger-parser';
import { parse as parseYaml } from 'yaml';
import { simulatorConfig, startGateway } from '../helpers/gateway.ts';
import { call } from '../helpers/http.ts';
import { ROOT, runCli } from '../helpers/process.ts';
import { useSimulator } from '../helpers/simulator.ts';
import type { ParsedTree } from '../helpers/tree.ts';

test("GET /pipelines/{name}/openapi.yaml: a valid OpenAPI 3.1.1 document with both formats, the error body and the input schema", async (t) => {
  const simulator = await useSimulator(t);
  const gw = await startGateway(t, simulatorConfig(simulator, { pipelines: [{ name: 'ccfraud', workspace: 'demo', inputSchema: { tensor: 'fixed_size_list<float32>[29]' } }] }));
  const answer = await call(`${gw.url}/pipelines/ccfraud/openapi.yaml`);
  assert.equal(answer.status, 200);
  assert.match(String(answer.headers['content-type']), /^application\/yaml/);
  const doc = parseYaml(answer.text) as ParsedTree;
  assert.equal(doc.openapi, '3.1.1');
  await SwaggerParser.validate(structuredClone(doc) as never);
  const post = doc.paths['/pipelines/ccfraud/infer'].post;
  assert.deepEqual(Object.keys(post.requestBody.content), [
    'application/json; format=pandas-records', 'application/json', 'application/vnd.apache.arrow.file', 'application/vnd.apache.arrow.stream',
  ]);
  assert.deepEqual(doc.components.schemas.InputRow.properties.tensor, { type: 'array', items: { type: 'number' }, minItems: 29, maxItems: 29, 'x-arrow-type': 'fixed_size_list<float32>[29]' });
  assert.equal(post.responses['503'].content['application/json'].schema.$ref, '#/components/schemas/GatewayError');
  assert.deepEqual(doc.components.schemas.GatewayError.required, ['statusCode', 'code', 'error', 'message']);
  assert.equal((await call(`${gw.url}/pipelines/unknown/openapi.yaml`)).json<{ code: string }>().code, 'GW_PIPELINE_NOT_FOUND');
});

test('GET /openapi.json describes the whole gateway and is valid', async (t) => {
  const simulator = await useSimulator(t);
  const gw = await startGateway(t, simulatorConfig(simulator));
  const doc = (await call(`${gw.url}/openapi.json`)).json<ParsedTree>();
  assert.match(doc.openapi, /^3\.1\./);
  await SwaggerParser.validate(structuredClone(doc) as never);
  for (const path of ['/pipelines/{name}/infer', '/pipelines', '/pipelines/{name}/openapi.yaml', '/healthz', '/readyz', '/metrics']) {
    assert.ok(doc.paths[path], path);
  }
  assert.ok(doc.paths['/pipelines/{name}/infer'].post.requestBody.content['application/vnd.apache.arrow.file']);
});

test('wallaroo-gateway spec PIPELINE prints the same YAML', async () => {
  const result = await runCli(['spec', 'ccfraud', '--config', join(ROOT, 'config.example.yaml')], { WALLAROO_CLIENT_SECRET: 'x' });
  assert.equal(result.code, 0, result.stderr);
  const doc = parseYaml(result.stdout) as ParsedTree;
  assert.equal(doc.info.title, 'wallaroo-gateway: pipeline ccfraud');
  await SwaggerParser.validate(doc as never);
  const missing = await runCli(['spec', 'nope', '--config', join(ROOT, 'config.example.yaml')], { WALLAROO_CLIENT_SECRET: 'x' });
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /^wallaroo-gateway: GW_PIPELINE_NOT_FOUND: no pipeline named "nope"/);
});
