import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { loadConfigFile } from '../../src/config/load.ts';

test('config.example.yaml is valid and shows the documented pipeline', () => {
  const file = fileURLToPath(new URL('../../config.example.yaml', import.meta.url));
  const config = loadConfigFile(file, { WALLAROO_CLIENT_SECRET: 'example' });
  assert.equal(config.wallaroo.url, 'https://wallaroo.example.com');
  assert.equal(config.pipelines.length, 1);
  assert.equal(config.pipelines[0]!.name, 'ccfraud');
  assert.deepEqual(config.pipelines[0]!.inputSchema, { tensor: 'fixed_size_list<float32>[29]' });
  assert.deepEqual(config.pipelines[0]!.rateLimit, { max: 100, timeWindowMs: 1000 });
});

test('config.example.yaml without its secret variable names the missing variable', () => {
  const file = fileURLToPath(new URL('../../config.example.yaml', import.meta.url));
  assert.throws(() => loadConfigFile(file, {}), /wallaroo\.auth\.clientSecret: environment variable WALLAROO_CLIENT_SECRET is not set/);
});
