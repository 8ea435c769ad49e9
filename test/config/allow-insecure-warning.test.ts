import assert from 'node:assert/strict';
import { test } from 'node:test';
import { simulatorConfig, startGateway } from '../helpers/gateway.ts';
import { useSimulator } from '../helpers/simulator.ts';

// Issue 15, F11: settings that expose the secret are accepted only with wallaroo.allowInsecure: true, and then the
// gateway says so at start, once, as a warning.

test('allowInsecure with unverified TLS starts with a warning naming what is insecure', async (t) => {
  const simulator = await useSimulator(t);
  const gateway = await startGateway(t, simulatorConfig(simulator, { wallaroo: { allowInsecure: true, tls: { rejectUnauthorized: false } } }));
  const warnings = gateway.logs.filter((line) => line.level === 'warn' && String(line.msg).startsWith('wallaroo.allowInsecure'));
  assert.deepEqual(warnings.map((line) => line.msg), [
    "wallaroo.allowInsecure: Wallaroo's certificate not verified (tls.rejectUnauthorized: false); tokens and the client secret can be read or taken by anyone on the network path. Use this in a lab only.",
  ]);
});

test('a loopback Wallaroo over plain http (the simulator) needs no allowInsecure and logs no such warning', async (t) => {
  const simulator = await useSimulator(t);
  const gateway = await startGateway(t, simulatorConfig(simulator));
  assert.equal(gateway.logs.filter((line) => String(line.msg).startsWith('wallaroo.allowInsecure')).length, 0);
});
