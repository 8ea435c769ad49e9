import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ccfraudBody } from '../helpers/data.ts';
import { SERVER_WITHOUT_SHEDDING, simulatorConfig, startGateway } from '../helpers/gateway.ts';
import { infer } from '../helpers/http.ts';
import { useSimulator } from '../helpers/simulator.ts';

const pipelines = [{ name: 'ccfraud', workspace: 'demo', rateLimit: { max: 1, timeWindow: '1m' } }];
const from = (address: string) => ({ 'x-forwarded-for': address });

test('keyBy ip behind trusted proxies: each forwarded client has its own budget; without server.trustProxy the header cannot buy a new one', async (t) => {
  const simulator = await useSimulator(t);
  const trusting = await startGateway(t, simulatorConfig(simulator, { server: { ...SERVER_WITHOUT_SHEDDING, trustProxy: ['loopback'] }, pipelines }));
  assert.equal((await infer(trusting.url, 'ccfraud', ccfraudBody(), from('198.51.100.1'))).status, 200);
  assert.equal((await infer(trusting.url, 'ccfraud', ccfraudBody(), from('198.51.100.1'))).status, 429);
  assert.equal((await infer(trusting.url, 'ccfraud', ccfraudBody(), from('198.51.100.2'))).status, 200);

  const direct = await startGateway(t, simulatorConfig(simulator, { server: SERVER_WITHOUT_SHEDDING, pipelines }));
  assert.equal((await infer(direct.url, 'ccfraud', ccfraudBody(), from('198.51.100.1'))).status, 200);
  assert.equal((await infer(direct.url, 'ccfraud', ccfraudBody(), from('198.51.100.2'))).status, 429, 'a spoofed X-Forwarded-For is ignored');
});
