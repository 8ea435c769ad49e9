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
  assert.equal(optionsOnly.stderr, 'wallaroo-gateway: a command comes first (got --config); e.g. wallaroo-gateway serve --config FILE; see wallaroo-gateway --help\n');

  // Every command's usage error starts with the program's name, as these do.
  const check = await runCli(['check-config']);
  assert.equal(check.code, 2);
  assert.equal(check.stderr, 'wallaroo-gateway: check-config needs --config FILE (or WALLAROO_GATEWAY_CONFIG)\n');
  const spec = await runCli(['spec']);
  assert.equal(spec.code, 2);
  assert.equal(spec.stderr, 'wallaroo-gateway: spec needs PIPELINE and --config FILE (or WALLAROO_GATEWAY_CONFIG), e.g. wallaroo-gateway spec ccfraud --config gateway.yaml\n');
  const unknown = await runCli(['srve']);
  assert.equal(unknown.code, 2);
  assert.equal(unknown.stderr, 'wallaroo-gateway: unknown command srve; see wallaroo-gateway --help\n');
});
