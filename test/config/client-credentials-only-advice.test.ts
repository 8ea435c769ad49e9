import assert from 'node:assert/strict';
import { test } from 'node:test';
import { configAdvice } from '../../src/config/advice.ts';
import { parseConfig } from '../../src/config/load.ts';

const base = { wallaroo: { url: 'https://wallaroo.example.com', auth: { clientSecret: 's' } } };

test('a client-credentials-only config with discovered pipelines is told that discovery needs MLOps credentials or an explicit url', () => {
  const discovered = parseConfig({ ...base, pipelines: [{ name: 'a', workspace: 'w' }, { name: 'b', url: 'https://wallaroo.example.com/v1/api/pipelines/infer/b-1/b' }] }, {});
  const [advice, ...rest] = configAdvice(discovered);
  assert.equal(rest.length, 0);
  assert.match(advice!, /^wallaroo\.mlops: not set, so discovery of a calls the MLOps API with the client-credentials token/);
  assert.match(advice!, /Set wallaroo\.mlops \(username and password of a Wallaroo user\), or an explicit url per pipeline\.$/);

  const explicit = parseConfig({ ...base, pipelines: [{ name: 'b', url: 'https://wallaroo.example.com/v1/api/pipelines/infer/b-1/b' }] }, {});
  assert.deepEqual(configAdvice(explicit), [], 'explicit URLs need no discovery');
  const withUser = parseConfig({ ...base, wallaroo: { ...base.wallaroo, mlops: { username: 'u', password: 'p' } }, pipelines: [{ name: 'a', workspace: 'w' }] }, {});
  assert.deepEqual(configAdvice(withUser), []);
  assert.deepEqual(withUser.wallaroo.mlops, { clientId: 'api-client', clientSecret: { source: 'inline', value: 's' }, username: 'u', password: { source: 'inline', value: 'p' } }, 'the confidential client with its secret, as Wallaroo documents');
  const publicClient = parseConfig({ ...base, wallaroo: { ...base.wallaroo, mlops: { clientId: 'sdk-client', username: 'u', password: 'p' } }, pipelines: [{ name: 'a', workspace: 'w' }] }, {});
  assert.equal(publicClient.wallaroo.mlops?.clientSecret, null, 'sdk-client is public: no secret is sent');
});
