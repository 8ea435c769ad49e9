import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { runCli } from '../helpers/process.ts';
import { useTempDir } from '../helpers/temp.ts';

test('check-config explains a client-credentials-only config: valid (exit 0), with a warning that discovery needs MLOps credentials or a url', async (t) => {
  const dir = useTempDir(t, 'gw-advice');
  const onlyClient = join(dir, 'only-client.yaml');
  writeFileSync(onlyClient, [
    'wallaroo: { url: "https://wallaroo.example.com", auth: { clientSecret: s } }',
    'pipelines: [{ name: ccfraud, workspace: fraud }]',
  ].join('\n'));
  const warned = await runCli(['check-config', '--config', onlyClient]);
  assert.equal(warned.code, 0, warned.stderr);
  assert.match(warned.stdout, /only-client\.yaml: valid \(1 pipeline: ccfraud\)\n/);
  assert.match(warned.stdout, /\nwarning: wallaroo\.mlops: not set, so discovery of ccfraud calls the MLOps API with the client-credentials token.*Set wallaroo\.mlops \(username and password of a Wallaroo user\), or an explicit url per pipeline\.\n$/);

  const withUser = join(dir, 'with-user.yaml');
  writeFileSync(withUser, [
    'wallaroo: { url: "https://wallaroo.example.com", auth: { clientSecret: s }, mlops: { username: reader, password: p } }',
    'pipelines: [{ name: ccfraud, workspace: fraud }]',
  ].join('\n'));
  const quiet = await runCli(['check-config', '--config', withUser]);
  assert.equal(quiet.code, 0, quiet.stderr);
  assert.doesNotMatch(quiet.stdout, /warning/);
});
