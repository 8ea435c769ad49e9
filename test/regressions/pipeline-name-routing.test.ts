import assert from 'node:assert/strict';
import { test } from 'node:test';
import { simulatorConfig, startGateway } from '../helpers/gateway.ts';
import { rawExchange, statusOf } from '../helpers/raw-http.ts';
import { useSimulator } from '../helpers/simulator.ts';

test('only configured pipeline names route: traversal, encoded slashes and overlong names never reach Wallaroo', async (t) => {
  const simulator = await useSimulator(t);
  const gw = await startGateway(t, simulatorConfig(simulator));
  const paths = [
    '/pipelines/..%2F..%2Fv1%2Fapi%2Fadmin/infer',
    '/pipelines/%2e%2e/infer',
    '/pipelines/../pipelines/ccfraud/infer',
    '/pipelines/ccfraud%2F..%2Fsummary/infer',
    '/pipelines/ccfraud%00/infer',
    '/pipelines/ccfraud/../../v1/api/workspaces/list',
    `/pipelines/${'a'.repeat(5_000)}/infer`,
    '/pipelines//infer',
    '/pipelines/CCFRAUD/infer',
    '/pipelines/ccfraud/infer/../../summary/infer',
  ];
  for (const path of paths) {
    // Raw, so no client normalises the path first.
    const { text } = await rawExchange(gw.url, [`POST ${path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 2\r\nConnection: close\r\n\r\n[]`], { waitMs: 2_000 });
    const status = statusOf(text);
    assert.ok([400, 404, 414].includes(status), `${path.slice(0, 60)} -> ${status}`);
    assert.match(text, /"code":"GW_(PIPELINE_NOT_FOUND|ROUTE_NOT_FOUND|BAD_REQUEST|URI_TOO_LONG)"/, path.slice(0, 60));
    assert.ok(text.length < 2_000, 'the offending path is not echoed back at length');
  }
  assert.equal(simulator.control.counts.inference + simulator.control.counts.mlops, 0, 'nothing reached Wallaroo');
});
