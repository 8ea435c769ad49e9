import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runCli } from '../helpers/process.ts';

// A mistyped option is one line naming it and pointing at --help, exit 2: not parseArgs' own message (with its
// unbalanced quote and advice about `--`) followed by the whole usage text.

test('an unknown option, or an option missing or given a value it does not take, is one line, exit 2', async () => {
  for (const [args, line] of [
    [['check-config', '--ofline', '--config', 'gateway.yaml'], 'unknown option --ofline'],
    [['convert', 'in.json', 'out.arrow', '-x'], 'unknown option -x'],
    [['check-config', '--config'], 'option --config needs a value'],
    [['check-config', '-c'], 'option --config needs a value'],
    [['check-config', '--offline=yes', '--config', 'gateway.yaml'], 'option --offline takes no value'],
  ] as const) {
    const result = await runCli([...args]);
    assert.equal(result.code, 2, args.join(' '));
    assert.equal(result.stderr, `wallaroo-gateway: ${line}; see wallaroo-gateway --help\n`, args.join(' '));
    assert.equal(result.stdout, '', args.join(' '));
  }
});
