import assert from 'node:assert/strict';
import { mkdirSync, renameSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type TestContext, test } from 'node:test';
import { ccfraudBody } from '../helpers/data.ts';
import { simulatorConfig, startGateway } from '../helpers/gateway.ts';
import { infer } from '../helpers/http.ts';
import { useSimulator } from '../helpers/simulator.ts';
import { useTempDir } from '../helpers/temp.ts';

/** Kubernetes updates a mounted Secret by writing a new ..data directory and swapping a symlink to it. */
function kubernetesSecretDir(t: TestContext): { dir: string; rotate(value: string): void } {
  const dir = useTempDir(t, 'gw-k8s-secret');
  let generation = 0;
  const rotate = (value: string) => {
    const target = `..data_${++generation}`;
    mkdirSync(join(dir, target));
    writeFileSync(join(dir, target, 'secret'), value);
    symlinkSync(target, join(dir, '..data_tmp'));
    renameSync(join(dir, '..data_tmp'), join(dir, '..data'));
    if (generation === 1) symlinkSync('..data/secret', join(dir, 'secret'));
  };
  return { dir, rotate };
}

test('a client secret mounted as a file is re-read, so a rotated Secret is used without a restart', async (t) => {
  const mount = kubernetesSecretDir(t);
  mount.rotate('first-secret');
  const simulator = await useSimulator(t, { clients: { 'api-client': 'first-secret' } });
  const gw = await startGateway(t, simulatorConfig(simulator, { wallaroo: { auth: { clientSecret: undefined, clientSecretFile: join(mount.dir, 'secret') } } }));
  assert.equal((await infer(gw.url, 'ccfraud', ccfraudBody())).status, 200);

  // Rotation: Keycloak gets the new secret, the mount is swapped, old tokens are revoked.
  simulator.control.setClientSecret('api-client', 'second-secret');
  mount.rotate('second-secret');
  simulator.control.revokeAllTokens();
  const answer = await infer(gw.url, 'ccfraud', ccfraudBody());
  assert.equal(answer.status, 200);
  assert.ok(!gw.logText().includes('second-secret') && !gw.logText().includes('first-secret'));
});
