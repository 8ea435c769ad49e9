import assert from 'node:assert/strict';
import { renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';
import { request } from 'undici';
import { bearer, callersConfig } from '../helpers/callers.ts';
import { startGateway } from '../helpers/gateway.ts';
import { infer, readyStatus } from '../helpers/http.ts';
import { startIssuer, type TestIssuer } from '../helpers/k8s-issuer.ts';
import { useSimulator } from '../helpers/simulator.ts';
import { useTempDir } from '../helpers/temp.ts';

// For clusters whose issuer cannot be reached from the gateway: `kubectl get --raw /openid/v1/jwks` saved in a
// ConfigMap, mounted as a file. The issuer here only signs tokens and hands out its JWKS to copy.
async function copyJwks(issuer: TestIssuer, file: string): Promise<void> {
  const text = await (await request(issuer.jwksUrl)).body.text();
  writeFileSync(`${file}.tmp`, text);
  renameSync(`${file}.tmp`, file); // as a ConfigMap update lands: all at once
}

test('jwksFile: tokens verify against a mounted JWKS file, re-read when a token names a key it did not have', async (t) => {
  const simulator = await useSimulator(t);
  const issuer = await startIssuer(t, 'ES256');
  const dir = useTempDir(t, 'gw-jwks-file');
  const file = join(dir, 'jwks.json');
  await copyJwks(issuer, file);
  const fetchesByCopy = issuer.counts.jwks;
  const gw = await startGateway(t, callersConfig(simulator, {
    callers: { authentication: 'kubernetes', kubernetes: { issuer: issuer.url, jwksFile: file, keysMinRefreshSeconds: 1 } },
  }));
  assert.equal(await readyStatus(gw.url, 100, 50), 200);
  assert.equal((await infer(gw.url, 'summary', '[{"a":1}]', bearer(await issuer.token({ namespace: 'payments', name: 'scorer' })))).status, 200);

  await issuer.addKey('RS256');
  await copyJwks(issuer, file);
  const rotated = bearer(await issuer.token({ namespace: 'payments', name: 'scorer' }));
  let status = (await infer(gw.url, 'summary', '[{"a":1}]', rotated)).status;
  for (let i = 0; i < 100 && status !== 200; i++) {
    await sleep(50); // the refresh interval must pass; no event says when
    status = (await infer(gw.url, 'summary', '[{"a":1}]', rotated)).status;
  }
  assert.equal(status, 200);
  assert.equal(issuer.counts.jwks - fetchesByCopy, 1, 'only the test copied the JWKS: the gateway read the file');
  assert.equal(issuer.counts.discovery, 0);
});
