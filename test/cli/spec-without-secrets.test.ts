import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { parseConfigText } from '../../src/config/load.ts';
import { pipelineOpenApiYaml } from '../../src/openapi/openapi.ts';
import { ROOT, runCli } from '../helpers/process.ts';
import { useTempDir } from '../helpers/temp.ts';

// `spec` describes a route; it never calls Wallaroo, so neither an unset secret variable nor a secret file that
// exists only in the pod may stop it.

test('spec prints the document when the secret variable is unset and the secret files do not exist', async (t) => {
  const dir = useTempDir(t, 'gw-spec-secrets');
  const podConfig = [
    'wallaroo:',
    '  url: https://wallaroo.example.com',
    '  auth: { clientSecretFile: /var/run/secrets/wallaroo/clientSecret }',
    '  mlops: { username: gateway, passwordFile: /var/run/secrets/wallaroo/password }',
    'pipelines: [{ name: ccfraud, workspace: w, inputSchema: { tensor: "fixed_size_list<float32>[29]" } }]',
    'rateLimit: { store: redis, redisUrl: "${REDIS_URL}" }',
  ].join('\n');
  const envConfig = [
    'wallaroo:',
    '  url: https://wallaroo.example.com',
    '  auth: { clientSecret: "${WALLAROO_CLIENT_SECRET}" }',
    '  mlops: { username: gateway, password: "${WALLAROO_PASSWORD}" }',
    'pipelines: [{ name: ccfraud, workspace: w, inputSchema: { tensor: "fixed_size_list<float32>[29]" } }]',
  ].join('\n');
  for (const [name, text] of [['pod.yaml', podConfig], ['env.yaml', envConfig]] as const) {
    const file = join(dir, name);
    writeFileSync(file, text);
    // The document the same config gives when its secrets are all there.
    const withSecrets = parseConfigText(text, { WALLAROO_CLIENT_SECRET: 'x', WALLAROO_PASSWORD: 'y', REDIS_URL: 'redis://r:6379' }, dir, file, { checkFiles: false });
    const result = await runCli(['spec', 'ccfraud', '--config', file]);
    assert.equal(result.stderr, '', name);
    assert.equal(result.code, 0, name);
    assert.equal(result.stdout, pipelineOpenApiYaml(withSecrets.pipelines[0]!), name);
  }
});

test('spec on config.example.yaml needs no WALLAROO_CLIENT_SECRET', async () => {
  const file = join(ROOT, 'config.example.yaml');
  const withSecret = parseConfigText(readFileSync(file, 'utf8'), { WALLAROO_CLIENT_SECRET: 'x' }, ROOT, file);
  const result = await runCli(['spec', 'ccfraud', '--config', file]);
  assert.equal(result.stderr, '');
  assert.equal(result.code, 0);
  assert.equal(result.stdout, pipelineOpenApiYaml(withSecret.pipelines[0]!));
});
