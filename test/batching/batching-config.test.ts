import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError, parseConfig } from '../../src/config/load.ts';

const withBatching = (batching: unknown) => ({
  wallaroo: { url: 'https://wallaroo.example.com', auth: { clientSecret: 's3cret' } },
  pipelines: [{ name: 'ccfraud', workspace: 'w', batching }, { name: 'other', workspace: 'w' }],
});

// pipelines[].batching: off when absent; an empty block takes the defaults; sizes take units; bad values are
// refused with their paths.
test('pipelines[].batching: off when absent, defaults, units, and refusals with paths', () => {
  const defaults = parseConfig(withBatching({}), {});
  assert.deepEqual(defaults.pipelines[0]!.batching, { maxRows: 64, maxDelayMs: 2, maxBytes: 4 * 1024 * 1024 });
  assert.equal(defaults.pipelines[1]!.batching, null);
  const set = parseConfig(withBatching({ maxRows: 16, maxDelayMs: 5, maxBytes: '1MiB' }), {});
  assert.deepEqual(set.pipelines[0]!.batching, { maxRows: 16, maxDelayMs: 5, maxBytes: 1024 * 1024 });

  try {
    parseConfig(withBatching({ maxRows: 0, maxDelayMs: 60_000, maxBytes: 'lots', rows: 3 }), {});
    assert.fail('expected the config to be refused');
  } catch (error) {
    assert.ok(error instanceof ConfigError);
    const paths = error.problems.map((problem) => problem.path).sort();
    assert.deepEqual(paths, ['pipelines[0].batching.maxBytes', 'pipelines[0].batching.maxDelayMs', 'pipelines[0].batching.maxRows', 'pipelines[0].batching.rows']);
  }
});
