import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Field, List, makeData, RecordBatch, Schema, Struct, Table, tableToIPC, Uint64, Utf8 } from 'apache-arrow';
import {
  elapsedFromAnswer, elapsedFromTable, engineTimeShape, JsonEngineTimeScanner,
} from '../../src/observability/engine-time.ts';
import { ccfraudBody } from '../helpers/data.ts';
import { standInConfig, startGateway } from '../helpers/gateway.ts';
import { ARROW_FILE, infer, JSON_RECORDS } from '../helpers/http.ts';
import { listenRaw } from '../helpers/raw-http.ts';
import { useSimulator } from '../helpers/simulator.ts';
import { waitFor } from '../helpers/wait.ts';

// Real answers from WallarooLabs/Wallaroo_Tutorials (first row; tensors and outputs shortened):
// 2025, nested: wallaroo-run-anywhere/inference-on-any-architecture/x86/edge-classification-cybersecurity/curl_response.df.json
const NESTED_2025 = '[{"time":1752682622795,"in":{"text_input":[0.0,0.0,0.0,0.0]},"out":{"banjori":[0.0015195814],"corebot":[0.98291475]},"anomaly":{"count":0},"metadata":{"last_model":"{\\"model_name\\":\\"aloha\\",\\"model_sha\\":\\"d71d9ffc61aaac58c2b1ed70a2db13d1416fb9d3f5b891e5e4e2e97180fe22f8\\"}","pipeline_version":"ae78a9cc-e32b-4a57-a4e8-cbad97c35cab","elapsed":[532259,423392945],"dropped":[],"partition":"engine-6f78786f66-hpmm2"}}]';
// 2024.2, flattened with "." and keys sorted: development/mlops-api/output.txt
const FLAT_2024 = '[{"anomaly.count":0,"in.dense_input":[-1.0603297501,2.3544967095,-3.5638788326,5.1387348926],"metadata.dropped":[],"metadata.elapsed":[4976659,5674079],"metadata.last_model":"{\\"model_name\\":\\"api-sample-model\\",\\"model_sha\\":\\"bc85ce596945f876256f41515c7501c399fd97ebcb9ab3dd41bf03f8937b4507\\"}","metadata.partition":"engine-5d965d96f4-wxk8l","metadata.pipeline_version":"800fa3cd-607f-4550-90ec-227d262f8a45","out.dense_1":[0.99300325],"time":1722279178343}]';
// 2023.4, nested with check_failures: wallaroo-run-anywhere/observability/edge-observability-assays/curl_response_edge.df.json
const NESTED_2023 = '[{"time":1700502816472,"in":{"tensor":[4.0,2.5,2900.0,5505.0]},"out":{"variable":[718013.7]},"check_failures":[],"metadata":{"last_model":"{\\"model_name\\":\\"housepricesagacontrol\\",\\"model_sha\\":\\"e22a0831aafd9917f3cc87a15ed267797f80e2afa12ad7d8810ca58f173b8cc6\\"}","pipeline_version":"","elapsed":[209470,1111593],"dropped":[],"partition":"houseprice-edgehouseprice-demo"}}]';

const seconds = (...ns: number[]) => ns.reduce((a, b) => a + b, 0) / 1e9;
const SHAPES: Array<[string, string, string, number]> = [
  ['2025 nested', NESTED_2025, '', seconds(532259, 423392945)],
  ['2024.2 flattened', FLAT_2024, '?dataset[]=*&dataset.separator=.', seconds(4976659, 5674079)],
  ['2023.4 nested', NESTED_2023, '', seconds(209470, 1111593)],
  ['flattened with "_"', FLAT_2024.replaceAll('"metadata.', '"metadata_').replaceAll('"in.', '"in_'), '?dataset.separator=_', seconds(4976659, 5674079)],
  ['flattened with "/" (URL-encoded)', FLAT_2024.replaceAll('"metadata.', '"metadata/'), '?dataset.separator=%2F', seconds(4976659, 5674079)],
];

function scanInChunks(text: string, url: string, size: number): number | null {
  const scanner = new JsonEngineTimeScanner(engineTimeShape(url)!);
  const bytes = Buffer.from(text);
  for (let at = 0; at < bytes.length; at += size) {
    const found = scanner.push(bytes.subarray(at, at + size));
    if (found !== undefined) return found;
  }
  return null;
}

test('engine time is read from nested and flattened JSON answers, whole or in chunks of any size', () => {
  for (const [name, answer, query, expected] of SHAPES) {
    assert.equal(elapsedFromAnswer(Buffer.from(answer), JSON_RECORDS, `/pipelines/p/infer${query}`), expected, name);
    for (const size of [1, 2, 3, 5, 7, 13, 64, 1024]) assert.equal(scanInChunks(answer, `/infer${query}`, size), expected, `${name}, chunks of ${size}`);
  }
  // An input echoed before the metadata (a 150,528-value image) does not hide it.
  const image = NESTED_2025.replace('[0.0,0.0,0.0,0.0]', `[${Array.from({ length: 150_528 }, (_, i) => (i % 255) / 255).join(',')}]`);
  assert.equal(scanInChunks(image, '/infer', 64 * 1024), seconds(532259, 423392945));
});

test('no engine time, and no error, when the request leaves metadata out or the answer has none', () => {
  for (const query of ['?dataset.exclude[]=metadata', '?dataset%5B%5D=*&dataset.exclude%5B%5D=metadata&dataset.separator=.', '?dataset[]=out', '?dataset[]=out&dataset[]=in']) {
    assert.equal(engineTimeShape(`/infer${query}`), null, query);
    assert.equal(elapsedFromAnswer(Buffer.from(NESTED_2025), JSON_RECORDS, `/infer${query}`), null, query);
  }
  for (const query of ['', '?dataset[]=*', '?dataset[]=metadata', '?dataset[]=metadata.elapsed', '?dataset.exclude[]=in']) {
    assert.notEqual(engineTimeShape(`/infer${query}`), null, query);
  }
  const withoutMetadata = '[{"time":1,"out":{"dense_1":[0.1]},"anomaly":{"count":0}}]';
  assert.equal(elapsedFromAnswer(Buffer.from(withoutMetadata), JSON_RECORDS, '/infer'), null);
  assert.equal(elapsedFromAnswer(Buffer.from('[{"metadata":{"elapsed":null}}]'), JSON_RECORDS, '/infer'), null);
  assert.equal(elapsedFromAnswer(Buffer.from('not json at all'), JSON_RECORDS, '/infer'), null);
});

function elapsedList(): { type: List; data: ReturnType<typeof makeData> } {
  const type = new List(new Field('item', new Uint64(), true));
  const child = makeData({ type: new Uint64(), length: 2, nullCount: 0, data: new BigUint64Array([532259n, 423392945n]) });
  return { type, data: makeData({ type, length: 1, nullCount: 0, valueOffsets: new Int32Array([0, 2]), child }) };
}

function table(fields: Field[], children: Array<ReturnType<typeof makeData>>): Table {
  return new Table([new RecordBatch(new Schema(fields), makeData({ type: new Struct(fields), length: 1, nullCount: 0, children }))]);
}

test('engine time is read from Arrow answers: a metadata struct, or a flattened metadata.elapsed column', () => {
  const elapsed = elapsedList();
  const partition = makeData({ type: new Utf8(), length: 1, nullCount: 0, valueOffsets: new Int32Array([0, 3]), data: Buffer.from('eng') });
  const metadataType = new Struct([new Field('partition', new Utf8(), true), new Field('elapsed', elapsed.type, true)]);
  const nested = table([new Field('metadata', metadataType, true)], [makeData({ type: metadataType, length: 1, nullCount: 0, children: [partition, elapsed.data] })]);
  const flat = table([new Field('metadata.elapsed', elapsed.type, true)], [elapsed.data]);
  const custom = table([new Field('metadata__elapsed', elapsed.type, true)], [elapsed.data]);
  for (const [name, answer, url] of [['nested', nested, '/infer'], ['flattened', flat, '/infer'], ['flattened with "__"', custom, '/infer?dataset.separator=__']] as const) {
    assert.equal(elapsedFromTable(answer, engineTimeShape(url)!), seconds(532259, 423392945), name);
    assert.equal(elapsedFromAnswer(Buffer.from(tableToIPC(answer, 'file')), ARROW_FILE, url), seconds(532259, 423392945), `${name}, IPC file`);
  }
  assert.equal(elapsedFromTable(flat, engineTimeShape('/infer?dataset.separator=__')!), seconds(532259, 423392945), '"." is always tried');
});

test('through the gateway: each recorded shape, streamed or sent whole, gives one engine-time sample; excluded metadata none', async (t) => {
  const simulator = await useSimulator(t);
  let answer = NESTED_2025;
  const port = await listenRaw(t, (socket) => {
    socket.on('data', (data) => {
      if (!data.includes('\r\n\r\n')) return;
      socket.write(`HTTP/1.1 200 OK\r\ncontent-type: application/json; format=pandas-records\r\ncontent-length: ${Buffer.byteLength(answer)}\r\n\r\n${answer}`);
    });
  });
  const gw = await startGateway(t, standInConfig(simulator, port, { name: 'recorded' }));
  const samples = async () => {
    const metric = await gw.registry.getSingleMetric('wallaroo_gateway_engine_elapsed_seconds')!.get();
    return metric.values.find((v) => (v as { metricName?: string }).metricName === 'wallaroo_gateway_engine_elapsed_seconds_count')?.value ?? 0;
  };
  // The access-log line is written when the answer has finished on the gateway's side, which may come just
  // after the client has read it all: wait for the line (bounded).
  const requestLine = (count: number) => waitFor(() => gw.logs.filter((l) => l.msg === 'request')[count - 1], `access-log line ${count}`);
  let expectedSamples = 0;
  let requests = 0;
  for (const [name, recorded, query, expected] of SHAPES) {
    // Whole (small) and streamed (over 64 KiB: a long first-row input pushes the rest along).
    const long = recorded.replace(/\[(-?[0-9.]+),/, (_, first: string) => `[${`${first},`.repeat(8_000)}`);
    for (const body of [recorded, long]) {
      answer = body;
      const result = await infer(gw.url, 'recorded', ccfraudBody(), {}, query);
      assert.equal(result.status, 200, name);
      assert.equal(result.text, body, `${name}: passed through untouched`);
      const line = await requestLine(++requests);
      assert.equal(line.engineMs, Math.round(expected * 1e6) / 1000, `${name}, ${body.length} bytes`);
      assert.equal(await samples(), ++expectedSamples);
    }
  }
  answer = '[{"time":1752682622795,"out":{"banjori":[0.0015195814]},"anomaly":{"count":0}}]';
  const excluded = await infer(gw.url, 'recorded', ccfraudBody(), {}, '?dataset[]=*&dataset.exclude[]=metadata&dataset.separator=.');
  assert.equal(excluded.status, 200);
  assert.equal((await requestLine(++requests)).engineMs, undefined);
  assert.equal(await samples(), expectedSamples, 'no sample when metadata is excluded');
});

test('an implausible engine time (negative, not finite, longer than the longest pipeline timeout) is no sample, in JSON and in Arrow', async () => {
  const { convertBody } = await import('../../src/convert/index.ts');
  const answer = (elapsed: string) => Buffer.from(`[{"out":{"dense_1":[0.5]},"metadata":{"elapsed":${elapsed}}}]`);
  const arrow = (elapsed: string) => convertBody(answer(elapsed), 'json', 'arrow-file');
  for (const elapsed of ['[1e300]', '[3600000000001]', '[1000, 3600000000000]', '[-5]']) {
    assert.equal(elapsedFromAnswer(answer(elapsed), JSON_RECORDS), null, `JSON ${elapsed}`);
    assert.equal(elapsedFromAnswer(arrow(elapsed), ARROW_FILE), null, `Arrow ${elapsed}`);
  }
  assert.equal(elapsedFromAnswer(answer('[3600000000000]'), JSON_RECORDS), 3600, 'an hour is still a measurement');
  assert.equal(elapsedFromAnswer(arrow('[1500000, 2500000]'), ARROW_FILE), 0.004);
});
