import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ccfraudBody } from '../helpers/data.ts';
import { simulatorConfig, startGateway } from '../helpers/gateway.ts';
import { infer } from '../helpers/http.ts';
import { useSimulator } from '../helpers/simulator.ts';

test("Wallaroo's own 429 and 503 with Retry-After reach the caller unchanged", async (t) => {
  const simulator = await useSimulator(t);
  const gw = await startGateway(t, simulatorConfig(simulator));
  for (const status of [429, 503]) {
    simulator.control.failInference(1, { status, headers: { 'retry-after': '7', 'content-type': 'application/json' }, body: `{"status":${status},"error":"busy"}` });
    const answer = await infer(gw.url, 'ccfraud', ccfraudBody());
    assert.equal(answer.status, status);
    assert.equal(answer.headers['retry-after'], '7');
    assert.equal(answer.headers['x-gateway-upstream-status'], String(status));
    assert.equal(answer.text, `{"status":${status},"error":"busy"}`);
  }
});
