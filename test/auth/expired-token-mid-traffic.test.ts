import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ccfraudBody } from '../helpers/data.ts';
import { simulatorConfig, startGateway } from '../helpers/gateway.ts';
import { infer } from '../helpers/http.ts';
import { useSimulator } from '../helpers/simulator.ts';

test('tokens expiring and revoked during steady traffic: zero failed requests', async (t) => {
  // 1 s tokens expire during the run; a revocation (key rotation) every 25 requests forces the 401 path too.
  // Driven by request counts, not by time, so a slow machine runs the same scenario.
  const simulator = await useSimulator(t, { tokenLifetimeSeconds: 1 });
  const gw = await startGateway(t, simulatorConfig(simulator, { wallaroo: { url: simulator.url, auth: { clientSecret: 'simulator-secret', refreshBeforeExpirySeconds: 0 } } }));
  const failures: string[] = [];
  let sent = 0;
  let revocations = 0;
  const worker = async () => {
    while (sent < 150) {
      sent++;
      if (sent % 25 === 0) {
        simulator.control.revokeAllTokens();
        revocations++;
      }
      const answer = await infer(gw.url, 'ccfraud', ccfraudBody());
      if (answer.status !== 200) failures.push(`${answer.status} ${answer.text}`);
    }
  };
  const started = Date.now();
  await Promise.all(Array.from({ length: 6 }, worker));
  assert.deepEqual(failures, []);
  assert.equal(revocations, 6);
  // Six revocations each cost one fetch (a burst of 401s shares it); expiries add the rest.
  const expiries = Math.floor((Date.now() - started) / 1000);
  assert.ok(simulator.control.counts.token >= 7, `tokens were renewed (${simulator.control.counts.token})`);
  assert.ok(simulator.control.counts.token <= 1 + 6 * 2 + 2 * (expiries + 1), `no more than one fetch per refusal or expiry (${simulator.control.counts.token})`);
});
