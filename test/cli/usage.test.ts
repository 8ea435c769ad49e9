import assert from 'node:assert/strict';
import { test } from 'node:test';
import { USAGE } from '../../src/cli/args.ts';
import { runCli } from '../helpers/process.ts';

test('bare wallaroo-gateway, --help and help print the usage on stdout and exit 0 (no demo starts)', async () => {
  for (const args of [[], ['--help'], ['-h'], ['help'], ['convert', '--help']]) {
    const result = await runCli(args);
    assert.equal(result.code, 0, `${args.join(' ')}: ${result.stderr}`);
    assert.equal(result.stdout, USAGE, args.join(' ') || '(no arguments)');
    assert.equal(result.stderr, '');
  }
  assert.match(USAGE, /^ {2}wallaroo-gateway demo /m);
  assert.match(USAGE, /check-config --config FILE \[--offline\]/);
});

test('serve without a config, or options without a command: one line saying what to do, exit 2', async () => {
  const serve = await runCli(['serve']);
  assert.equal(serve.code, 2);
  assert.equal(serve.stderr, 'wallaroo-gateway: serve needs --config FILE (or WALLAROO_GATEWAY_CONFIG); for the demo with the embedded simulator: wallaroo-gateway demo\n');
  assert.equal(serve.stdout, '');

  const optionsOnly = await runCli(['--config', 'gateway.yaml']);
  assert.equal(optionsOnly.code, 2);
  assert.equal(optionsOnly.stderr.split('\n')[0], 'wallaroo-gateway: a command comes first (got --config); e.g. wallaroo-gateway serve --config FILE');
});
