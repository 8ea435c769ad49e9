import assert from 'node:assert/strict';
import { test } from 'node:test';
import { standInConfig, startGateway } from '../helpers/gateway.ts';
import { infer } from '../helpers/http.ts';
import { freePort } from '../helpers/ports.ts';
import { useSimulator } from '../helpers/simulator.ts';

// Issue 15: error lines carried "reqId" twice (pino's child binding plus the same field again); strict JSON
// ingestion (duplicate keys refused) drops such lines, so the errors were the lines that went missing.

test('the warning logged for a failed request has one reqId key, like every other line', async (t) => {
  const simulator = await useSimulator(t);
  const closedPort = await freePort(); // nothing listens: 502 GW_UPSTREAM_UNREACHABLE, logged as a warning
  const gateway = await startGateway(t, standInConfig(simulator, closedPort, { name: 'gone', maxRetries: 0 }));
  const answer = await infer(gateway.url, 'gone', '[{"tensor":[1]}]', { 'x-request-id': 'dup-check-1' });
  assert.equal(answer.status, 502);
  assert.equal(answer.json<{ code: string }>().code, 'GW_UPSTREAM_UNREACHABLE');
  const lines = gateway.logText().split('\n').filter((line) => line.includes('"dup-check-1"'));
  const warning = lines.find((line) => line.includes('"level":"warn"'));
  assert.ok(warning, `a warning line for the request among ${lines.length} lines`);
  for (const line of lines) assert.equal(line.match(/"reqId":/g)?.length, 1, line);
});
