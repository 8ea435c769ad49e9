import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { ccfraudBody } from '../helpers/data.ts';
import { simulatorConfig, startGateway } from '../helpers/gateway.ts';
import { infer } from '../helpers/http.ts';
import { useSimulator } from '../helpers/simulator.ts';

test('a redirect from Wallaroo is never followed, so the token cannot be sent to another host', async (t) => {
  let stolen = 0;
  const elsewhere = createServer((_req, res) => {
    stolen++;
    res.end();
  });
  await new Promise<void>((resolve) => elsewhere.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise((resolve) => elsewhere.close(resolve)));
  const target = `http://127.0.0.1:${(elsewhere.address() as AddressInfo).port}/steal`;
  const simulator = await useSimulator(t);
  const gw = await startGateway(t, simulatorConfig(simulator));
  simulator.control.failInference(1, { status: 307, headers: { location: target }, body: '' });
  const answer = await infer(gw.url, 'ccfraud', ccfraudBody());
  assert.equal(answer.status, 307, 'passed back as is, not followed');
  assert.equal(stolen, 0);
});
