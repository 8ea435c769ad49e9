import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { runCli } from '../helpers/process.ts';
import { useTempDir } from '../helpers/temp.ts';

test('check-config --offline validates a pod config whose secret and CA files exist only in the pod', async (t) => {
  const dir = useTempDir(t, 'gw-offline');
  const file = join(dir, 'pod.yaml');
  writeFileSync(file, [
    'server: { host: 127.0.0.1, port: 8080 }',
    'wallaroo:',
    '  url: https://wallaroo.example.com',
    '  tls: { caFile: /etc/ssl/wallaroo-ca/ca.crt }',
    '  auth: { clientSecretFile: /var/run/secrets/wallaroo/clientSecret }',
    '  mlops: { username: gateway, passwordFile: /var/run/secrets/wallaroo/mlopsPassword }',
    'pipelines: [{ name: ccfraud, workspace: urlworkspace }]',
    'rateLimit: { store: redis, redisUrlFile: /var/run/secrets/wallaroo/redisUrl }',
    'metrics: { port: 9090 }',
  ].join('\n'));

  const online = await runCli(['check-config', '--config', file]);
  assert.equal(online.code, 1);
  for (const expected of [
    /- wallaroo\.auth\.clientSecretFile: cannot read \/var\/run\/secrets\/wallaroo\/clientSecret \(ENOENT\)/,
    /- wallaroo\.mlops\.passwordFile: cannot read \/var\/run\/secrets\/wallaroo\/mlopsPassword \(ENOENT\)/,
    /- rateLimit\.redisUrlFile: cannot read \/var\/run\/secrets\/wallaroo\/redisUrl \(ENOENT\)/,
    /- wallaroo\.tls\.caFile: cannot read \/etc\/ssl\/wallaroo-ca\/ca\.crt/,
  ]) assert.match(online.stderr, expected);

  const offline = await runCli(['check-config', '--offline', '--config', file]);
  assert.equal(offline.code, 0, offline.stderr);
  assert.equal(offline.stdout, `${file}: valid (1 pipeline: ccfraud); offline: secret and CA files not read\n`);

  // Offline still checks everything else.
  writeFileSync(file, 'wallaroo: { url: https://wallaroo.example.com, auth: { clientSecretFile: /nope } }\npipelines: [{ name: ccfraud, workspce: w }]\n');
  const typo = await runCli(['check-config', '--offline', '--config', file]);
  assert.equal(typo.code, 1);
  assert.match(typo.stderr, /- pipelines\[0\]\.workspce: unknown key/);
});
