import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { convertBody } from '../../src/convert/index.ts';
import { ccfraudBody } from '../helpers/data.ts';
import { standInConfig, startGateway } from '../helpers/gateway.ts';
import { ARROW_FILE, call, JSON_RECORDS } from '../helpers/http.ts';
import { listenHttp } from '../helpers/raw-http.ts';
import { useSimulator } from '../helpers/simulator.ts';

// Wallaroo answers in the format the gateway asks for. One that answers in another known format anyway (a proxy
// in front of it, a misbehaving release) is converted to what the caller wants: a caller that asked for JSON is
// never handed Arrow bytes, nor the reverse.
const ANSWER_JSON = '[{"time":1,"out":{"dense_1":[0.25]}}]';

async function stubbornWallaroo(t: TestContext, format: 'json' | 'arrow-file') {
  const asked: Array<string | undefined> = [];
  const port = await listenHttp(t, (request, response) => {
    asked.push(request.headers.accept);
    request.resume();
    request.once('end', () => {
      const body = format === 'json' ? Buffer.from(ANSWER_JSON) : convertBody(Buffer.from(ANSWER_JSON), 'json', 'arrow-file');
      response.writeHead(200, { 'content-type': format === 'json' ? JSON_RECORDS : ARROW_FILE, 'content-length': body.length });
      response.end(body);
    });
  });
  return { port, asked };
}

test('an answer in a format the gateway did not ask for is converted to the one the caller wants', async (t) => {
  const simulator = await useSimulator(t);
  const arrowAlways = await stubbornWallaroo(t, 'arrow-file');
  const gw = await startGateway(t, standInConfig(simulator, arrowAlways.port, { name: 'p' }));
  const asJson = await call(`${gw.url}/pipelines/p/infer`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: ccfraudBody() });
  assert.equal(arrowAlways.asked[0], JSON_RECORDS, 'the gateway asked for JSON');
  assert.equal(asJson.status, 200);
  assert.equal(asJson.headers['content-type'], JSON_RECORDS);
  assert.equal(asJson.text, ANSWER_JSON);
  // A caller that wants what came is given it as it came.
  const asArrow = await call(`${gw.url}/pipelines/p/infer`, { method: 'POST', headers: { 'content-type': 'application/json', accept: ARROW_FILE }, body: ccfraudBody() });
  assert.equal(asArrow.headers['content-type'], ARROW_FILE);
  assert.equal(convertBody(asArrow.body, 'arrow-file', 'json').toString(), ANSWER_JSON);

  const jsonAlways = await stubbornWallaroo(t, 'json');
  const gw2 = await startGateway(t, standInConfig(simulator, jsonAlways.port, { name: 'p' }));
  const wantsArrow = await call(`${gw2.url}/pipelines/p/infer`, { method: 'POST', headers: { 'content-type': 'application/json', accept: ARROW_FILE }, body: ccfraudBody() });
  assert.equal(jsonAlways.asked[0], ARROW_FILE, 'the gateway asked for an Arrow file');
  assert.equal(wantsArrow.status, 200);
  assert.equal(wantsArrow.headers['content-type'], ARROW_FILE);
  assert.equal(convertBody(wantsArrow.body, 'arrow-file', 'json').toString(), ANSWER_JSON);
});
