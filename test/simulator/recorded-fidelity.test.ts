import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { type DataType, type Field, type List, type Struct, type Table, tableFromIPC, type Timestamp, type TimeUnit, Type } from 'apache-arrow';
import { request } from 'undici';
import { type Simulator, WALLAROO_VERSIONS, type WallarooVersion } from '../../src/simulator/server.ts';
import { sample } from '../helpers/data.ts';
import { ROOT } from '../helpers/process.ts';
import { useSimulator } from '../helpers/simulator.ts';

// The simulator against what real Wallaroo instances recorded (test/fixtures/wallaroo-recorded/MANIFEST.md),
// field by field: names, order, types, nullability, statuses and error bodies. Model outputs differ (the
// simulator's models are not the tutorials'), so values are compared only where they are fixed by Wallaroo.

const RECORDED = join(ROOT, 'test/fixtures/wallaroo-recorded');
const recorded = <T>(path: string): T => JSON.parse(readFileSync(join(RECORDED, path), 'utf8')) as T;
/** The recording a version is compared with: its own, or the one its profile says it shares. */
const nearest = (version: WallarooVersion, file: string, fallback: WallarooVersion): string => {
  try {
    readFileSync(join(RECORDED, version, file));
    return `${version}/${file}`;
  } catch {
    return `${fallback}/${file}`;
  }
};

/** A value's shape: types instead of values, object keys in order, a list by its first item. */
function shapeOf(value: unknown): unknown {
  if (value === null) return 'null';
  if (Array.isArray(value)) return value.length > 0 ? [shapeOf(value[0])] : [];
  if (typeof value === 'object') return Object.entries(value as object).map(([key, inner]) => [key, shapeOf(inner)]);
  return typeof value;
}

/** An Arrow type as pyarrow prints it (the recorded SDK output), child names and nullability included. */
function pyarrowType(type: DataType): string {
  switch (type.typeId) {
    case Type.Float:
      return ['halffloat', 'float', 'double'][(type as unknown as { precision: number }).precision]!;
    case Type.Int: {
      const { isSigned, bitWidth } = type as unknown as { isSigned: boolean; bitWidth: number };
      return `${isSigned ? 'int' : 'uint'}${bitWidth}`;
    }
    case Type.Utf8:
      return 'string';
    case Type.Timestamp:
      return `timestamp[${['s', 'ms', 'us', 'ns'][(type as Timestamp).unit as TimeUnit]}]`;
    case Type.List: {
      const child = (type as List).children[0]!;
      return `list<${child.name}: ${pyarrowType(child.type)}${child.nullable ? '' : ' not null'}>`;
    }
    case Type.Struct:
      return `struct<${(type as Struct).children.map((f) => `${f.name}: ${pyarrowType(f.type)}${f.nullable ? '' : ' not null'}`).join(', ')}>`;
    default:
      return String(type);
  }
}
const schemaLines = (table: Table) => table.schema.fields.map((f: Field) => `${f.name}: ${pyarrowType(f.type)}${f.nullable ? '' : ' not null'}`);
const printedSchema = (path: string) => readFileSync(join(RECORDED, path), 'utf8').split('\n').filter((line) => line && !line.startsWith(' ') && !line.startsWith('pyarrow.'));

interface Answer {
  status: number;
  contentType: string;
  body: Buffer;
  text: string;
}

async function post(url: string, body: string | Buffer, headers: Record<string, string>): Promise<Answer> {
  const response = await request(url, { method: 'POST', body, headers });
  const bytes = Buffer.from(await response.body.arrayBuffer());
  return { status: response.statusCode, contentType: String(response.headers['content-type']), body: bytes, text: bytes.toString('utf8') };
}

const FORM = 'application/x-www-form-urlencoded';
const basic = (id: string, secret: string) => `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`;
const claimsOf = (jwt: string) => JSON.parse(Buffer.from(jwt.split('.')[1]!, 'base64url').toString('utf8')) as Record<string, unknown>;

async function tokens(simulator: Simulator) {
  const api = basic('api-client', 'simulator-secret');
  const password = await post(simulator.tokenUrl, 'grant_type=password&username=admin&password=admin-password', { 'content-type': FORM, authorization: api });
  const passwordBody = JSON.parse(password.text) as Record<string, unknown>;
  const refresh = await post(simulator.tokenUrl, `grant_type=refresh_token&refresh_token=${String(passwordBody.refresh_token)}`, { 'content-type': FORM, authorization: api });
  const service = await post(simulator.tokenUrl, 'grant_type=client_credentials', { 'content-type': FORM, authorization: api });
  const sdk = await post(simulator.tokenUrl, 'grant_type=password&client_id=sdk-client&username=admin&password=admin-password', { 'content-type': FORM });
  return {
    password: passwordBody,
    refresh: JSON.parse(refresh.text) as Record<string, unknown>,
    service: JSON.parse(service.text) as Record<string, unknown>,
    sdk: JSON.parse(sdk.text) as Record<string, unknown>,
    status: [password.status, refresh.status, service.status, sdk.status],
  };
}

interface TokenRecording {
  passwordGrantConfidentialClient: { answer: Record<string, unknown>; accessClaims: Record<string, unknown>; refreshClaims: Record<string, unknown> };
  refreshGrantConfidentialClient: { answer: Record<string, unknown> };
  clientCredentialsGrant: { accessClaims: Record<string, unknown> };
}

async function checkTokens(t: TestContext, simulator: Simulator, version: WallarooVersion) {
  const confidential = recorded<TokenRecording>('2023.4/token-answers.json'); // not re-recorded since
  const got = await tokens(simulator);
  assert.deepEqual(got.status, [200, 200, 200, 200]);
  // Keycloak's answer fields, in order; lifetimes as recorded (the refresh token dies before its access token).
  assert.deepEqual(shapeOf(got.password), shapeOf(confidential.passwordGrantConfidentialClient.answer));
  assert.deepEqual(shapeOf(got.refresh), shapeOf(confidential.refreshGrantConfidentialClient.answer));
  assert.equal(got.password.expires_in, confidential.passwordGrantConfidentialClient.answer.expires_in);
  assert.equal(got.password.refresh_expires_in, confidential.passwordGrantConfidentialClient.answer.refresh_expires_in);
  const access = claimsOf(String(got.password.access_token));
  const refresh = claimsOf(String(got.password.refresh_token));
  assert.deepEqual([access.azp, access.typ, Number(access.exp) - Number(access.iat)], ['api-client', 'Bearer', 3600]);
  assert.deepEqual([refresh.azp, refresh.typ, Number(refresh.exp) - Number(refresh.iat)], ['api-client', 'Refresh', 1800]);
  const service = claimsOf(String(got.service.access_token));
  const serviceRecorded = confidential.clientCredentialsGrant.accessClaims;
  assert.deepEqual(
    [service.azp, service.typ, service.preferred_username, service.clientId, Number(service.exp) - Number(service.iat)],
    [serviceRecorded.azp, serviceRecorded.typ, serviceRecorded.preferred_username, serviceRecorded.clientId, serviceRecorded.lifetimeSeconds],
  );
  // sdk-client lifetimes as that version's instances issued them (the first recording where several).
  const sdkRecorded = recorded<{ sdkClientTokens: Array<{ lifetimeSeconds: number }> | { accessClaims: { lifetimeSeconds: number } } }>(`${version}/token-answers.json`).sdkClientTokens;
  const sdkLifetime = Array.isArray(sdkRecorded) ? sdkRecorded[0]!.lifetimeSeconds : sdkRecorded.accessClaims.lifetimeSeconds;
  const sdk = claimsOf(String(got.sdk.access_token));
  assert.deepEqual([sdk.azp, got.sdk.expires_in, Number(sdk.exp) - Number(sdk.iat)], ['sdk-client', sdkLifetime, sdkLifetime]);
  // Keycloak's host: its own before 2024.2 (iss differs from the API host), the API host since.
  const iss = new URL(String(access.iss));
  assert.equal(iss.pathname, '/auth/realms/master');
  assert.equal(iss.origin === new URL(simulator.url).origin, version !== '2023.4', `iss ${iss.origin}, API ${simulator.url}`);
  assert.equal(iss.origin, new URL(simulator.keycloakUrl).origin);
  t.diagnostic(`${version}: tokens as recorded`);
  return { user: `Bearer ${String(got.password.access_token)}`, inference: `Bearer ${String(got.service.access_token)}` };
}

async function checkDiscovery(simulator: Simulator, version: WallarooVersion, user: string) {
  const list = await post(`${simulator.url}/v1/api/workspaces/list`, '{}', { authorization: user, 'content-type': 'application/json' });
  const listed = JSON.parse(list.text) as { workspaces: unknown[] };
  const recordedList = recorded<{ answer: { workspaces: unknown[] } }>('2025/workspaces-list.json').answer;
  assert.equal(list.status, 200);
  assert.deepEqual(shapeOf(listed.workspaces[0]), shapeOf(recordedList.workspaces[1]));
  const url = await post(`${simulator.url}/v1/api/admin/get_pipeline_external_url`, '{"workspace_id":8,"pipeline_name":"ccfraud"}', { authorization: user, 'content-type': 'application/json' });
  const answer = JSON.parse(url.text) as { url: string };
  const recordedUrl = new URL(recorded<{ answer: { url: string } }>(`${version}/external-url.json`).answer.url);
  assert.deepEqual(Object.keys(answer), ['url']);
  // /v1/api/pipelines/infer/{pipeline}-{deploy id}/{pipeline}, on the API host
  assert.match(recordedUrl.pathname, /^\/v1\/api\/pipelines\/infer\/([a-z0-9-]+)-\d+\/\1$/);
  assert.match(new URL(answer.url).pathname, /^\/v1\/api\/pipelines\/infer\/ccfraud-\d+\/ccfraud$/);
  assert.equal(new URL(answer.url).origin, new URL(simulator.url).origin);
  return answer.url;
}

type Row = Record<string, unknown>;

async function checkAnswers(version: WallarooVersion, url: string, inference: string) {
  const json = 'application/json; format=pandas-records';
  const arrow = 'application/vnd.apache.arrow.file';
  if (version === '2025') {
    // Recorded on a vgg16 model: the fixed columns and their order, not the model's in/out.
    const [row] = recorded<{ answer: Row[] }>('2025/inference-answer.json').answer;
    const got = await post(url, JSON.stringify([{ tensor: Array(29).fill(0.5) }]), { authorization: inference, 'content-type': json, accept: json });
    const [gotRow] = JSON.parse(got.text) as Row[];
    assert.deepEqual(Object.keys(gotRow!), Object.keys(row!));
    for (const key of ['time', 'anomaly', 'metadata']) assert.deepEqual(shapeOf(gotRow![key]), shapeOf(row![key]), key);
  } else {
    const { request: sent, answer } = recorded<{ request: Row[]; answer: Row[] }>(`${version}/inference-answer.json`);
    const got = await post(url, JSON.stringify(sent), { authorization: inference, 'content-type': json });
    assert.equal(got.status, 200);
    assert.equal(got.contentType, json);
    assert.deepEqual(shapeOf(JSON.parse(got.text)), shapeOf(answer));
    if (version === '2023.4') assert.equal((JSON.parse(got.text) as Array<{ metadata: Row }>)[0]!.metadata.pipeline_version, '');
    // The float32 output printed in its shortest form, as the engine does (0.0014974177), not as a double.
    const literal = /"dense_1":\[([^\]]+)\]/.exec(got.text)![1]!;
    assert.ok(literal.replace(/^-?0?\.?0*|\.|e.*$/g, '').length <= 9, literal);
  }
  // Arrow: the raw answer's schema, and the SDK's flattened one (its dataset parameters).
  const input = sample('cc_data_1k.arrow');
  const raw = await post(url, input, { authorization: inference, 'content-type': arrow, accept: arrow });
  assert.equal(raw.contentType, arrow);
  const rawRecorded = tableFromIPC(readFileSync(join(RECORDED, nearest(version, 'arrow-answer.arrow', '2024.2'))));
  assert.deepEqual(schemaLines(tableFromIPC(raw.body)), schemaLines(rawRecorded));
  const sdkQuery = '?dataset[]=*&dataset.exclude[]=metadata&dataset.separator=.';
  const flat = await post(url + sdkQuery, input, { authorization: inference, 'content-type': arrow, accept: arrow });
  assert.deepEqual(schemaLines(tableFromIPC(flat.body)), printedSchema(nearest(version, 'arrow-answer-sdk-flattened.txt', '2024.2')));
  // An Arrow input answered in JSON when Accept does not ask for Arrow (curl sends */*).
  const anyAnswer = await post(url, input, { authorization: inference, 'content-type': arrow, accept: '*/*' });
  assert.equal(anyAnswer.contentType, json);
}

async function checkErrors(simulator: Simulator, version: WallarooVersion, url: string, inference: string) {
  const json = 'application/json; format=pandas-records';
  const sdkQuery = '?dataset[]=*&dataset.exclude[]=metadata&dataset.separator=.';
  const bad = await post(url + sdkQuery, '[{"tensor":[1,2,3]}]', { authorization: inference, 'content-type': json });
  if (version !== '2025') {
    const recordedError = recorded<{ status: number; body: string }>('2024.2/error-bad-tensor.json');
    assert.deepEqual([bad.status, bad.text], [recordedError.status, recordedError.body]);
    return;
  }
  type Example = { status: number; body: Record<string, unknown> };
  const { examples } = recorded<{ examples: Record<string, Example> }>('2025/errors.json');
  const same = (answer: Answer, example: Example) => assert.deepEqual([answer.status, JSON.parse(answer.text)], [example.status, example.body]);
  // 400: the spec's example is about another model; the status, the fields and the fixed values are Wallaroo's.
  assert.equal(bad.status, examples.badRequest!.status);
  assert.deepEqual(shapeOf(JSON.parse(bad.text)), shapeOf(examples.badRequest!.body));
  assert.deepEqual({ ...JSON.parse(bad.text), error: '' }, { ...examples.badRequest!.body, error: '' });
  same(await post(url, '[]', { 'content-type': json }), examples.unauthorized!);
  same(await post(url.replace(/-(\d+)\/ccfraud$/, '-9$1/ccfraud'), '[]', { authorization: inference, 'content-type': json }), examples.notFound!);
  const llm = simulator.control.inferenceUrl('llm');
  same(await post(llm, '[]', { authorization: inference, 'content-type': json }), examples.nativeCallOnOpenAiPipeline!);
  same(await post(`${url}/openai/v1/completions`, '{"prompt":"a"}', { authorization: inference, 'content-type': 'application/json' }), examples.openAiCallOnNativePipeline!);
  simulator.control.failInference(1);
  same(await post(url, '[]', { authorization: inference, 'content-type': json }), examples.internalError!);
  simulator.control.deploy('ccfraud', { activatingForMs: 60_000 });
  same(await post(url, '[]', { authorization: inference, 'content-type': json }), examples.pipelineBeingActivated!);
  simulator.control.finishActivation('ccfraud');
}

/** SSE events of a stream, parsed; `[DONE]` kept as a string. */
const events = (text: string) => text.split('\n\n').filter((e) => e.startsWith('data: ')).map((e) => e.slice(6)).map((d) => (d === '[DONE]' ? d : JSON.parse(d) as Row));

async function checkOpenAi(simulator: Simulator, inference: string) {
  const llm = simulator.control.inferenceUrl('llm');
  const headers = { authorization: inference, 'content-type': 'application/json' };
  for (const [path, body, file] of [
    ['completions', { prompt: 'a b c' }, 'openai-completion.json'],
    ['chat/completions', { messages: [{ role: 'user', content: 'a b c' }] }, 'openai-chat-completion.json'],
  ] as const) {
    const got = JSON.parse((await post(`${llm}/openai/v1/${path}`, JSON.stringify(body), headers)).text) as Row;
    assert.deepEqual(shapeOf(got), shapeOf(recorded<{ answer: Row }>(`2025/${file}`).answer), path);
  }
  // Prompts chosen to end as each recording did: a completion that stopped by itself, the others at max_tokens.
  const words = 'a b c d e f g h';
  for (const [path, body, file, head, tail] of [
    ['completions', { prompt: 'a b c', stream: true, stream_options: { include_usage: true } }, 'openai-completions-stream-include-usage.sse', 2, 3],
    ['chat/completions', { messages: [{ role: 'user', content: words }], max_tokens: 5, stream: true, stream_options: { include_usage: true } }, 'openai-chat-stream-include-usage.sse', 3, 3],
    ['completions', { prompt: words, max_tokens: 4, stream: true }, 'openai-completions-stream.sse', 2, 3],
    ['chat/completions', { messages: [{ role: 'user', content: words }], max_tokens: 5, stream: true }, 'openai-chat-stream.sse', 3, 2],
  ] as const) {
    const got = events((await post(`${llm}/openai/v1/${path}`, JSON.stringify(body), headers)).text);
    const want = events(readFileSync(join(RECORDED, '2025', file), 'utf8'));
    // The recordings keep the first and the last events: compare those, chunk by chunk, in order.
    assert.equal(head + tail, want.length, file);
    assert.deepEqual([...got.slice(0, head), ...got.slice(-tail)].map(shapeOf), want.map(shapeOf), file);
  }
}

async function checkDataset(url: string, inference: string) {
  const recordedFields = recorded<{ flattenedOutputFields: string[] }>('2025/dataset-parameters.json').flattenedOutputFields;
  const got = await post(`${url}?dataset.flatten=true`, JSON.stringify([{ tensor: Array(29).fill(0.5) }]), { authorization: inference, 'content-type': 'application/json' });
  // The recording's model reads in.images and writes out.predictions; this one in.tensor and out.dense_1.
  const expected = recordedFields.map((f) => f.replace('in.images', 'in.tensor').replace('out.predictions', 'out.dense_1')).sort();
  assert.deepEqual(Object.keys((JSON.parse(got.text) as Row[])[0]!).sort(), expected);
}

for (const version of WALLAROO_VERSIONS) {
  test(`the ${version} simulator answers as ${version} instances recorded: tokens, hosts, discovery, answers, errors`, async (t) => {
    const simulator = await useSimulator(t, { version });
    const { user, inference } = await checkTokens(t, simulator, version);
    const url = await checkDiscovery(simulator, version, user);
    await checkAnswers(version, url, inference);
    await checkErrors(simulator, version, url, inference);
    if (version === '2025') {
      await checkOpenAi(simulator, inference);
      await checkDataset(url, inference);
    }
  });
}
