import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';
import { ccfraudBody } from '../helpers/data.ts';
import { simulatorConfig, startGateway } from '../helpers/gateway.ts';
import { infer } from '../helpers/http.ts';
import { useSimulator } from '../helpers/simulator.ts';

test('tokens expiring and revoked during steady traffic: zero failed requests', async (t) => {
  // refreshBeforeExpirySeconds 0 still refreshes a third of the way ahead; revocations force the 401 path too.
  const simulator = await useSimulator(t, { tokenLifetimeSeconds: 1 });
  const gw = await startGateway(t, simulatorConfig(simulator, { wallaroo: { url: simulator.url, auth: { clientSecret: 'simulator-secret', refreshBeforeExpirySeconds: 0 } } }));
  const statuses: number[] = [];
  const failures: string[] = [];
  const deadline = Date.now() + 2_500;
  const worker = async () => {
    for (let i = 0; i < 1_000 && Date.now() < deadline; i++) {
      const answer = await infer(gw.url, 'ccfraud', ccfraudBody());
      statuses.push(answer.status);
      if (answer.status !== 200) failures.push(`${answer.status} ${answer.text}`);
    }
  };
  const revoker = (async () => {
    for (let i = 0; i < 4; i++) {
      await sleep(500);
      simulator.control.revokeAllTokens();
    }
  })();
  await Promise.all([...Array.from({ length: 6 }, worker), revoker]);
  assert.ok(statuses.length > 50, `enough traffic (${statuses.length})`);
  assert.deepEqual(failures, []);
  assert.ok(simulator.control.counts.token >= 4, `tokens were renewed (${simulator.control.counts.token})`);
});
