import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { ccfraudBody } from '../helpers/data.ts';
import { call, infer } from '../helpers/http.ts';
import { ENTRY, runCli, spawnServer } from '../helpers/process.ts';
import { useSimulator } from '../helpers/simulator.ts';
import { useTempDir } from '../helpers/temp.ts';

test('a real gateway process never prints a secret or a token: every error path, stdout and stderr, and check-config', async (t) => {
  const clientSecret = 'PROC-client-secret-93f1';
  const password = 'PROC-user-password-17ab';
  const simulator = await useSimulator(t, { clients: { 'api-client': clientSecret }, users: { ops: password } });
  const dir = useTempDir(t, 'gw-leak');
  writeFileSync(join(dir, 'password'), password);
  writeFileSync(join(dir, 'gateway.yaml'), [
    'server: { host: 127.0.0.1, port: 0, bodyLimit: 2KiB, bodyTimeoutMs: 300, maxEventLoopDelayMs: 0 }',
    `wallaroo: { url: "${simulator.url}", auth: { clientSecret: "\${CLIENT_SECRET}", tokenUrl: "${simulator.tokenUrl}" }, mlops: { username: ops, passwordFile: ./password } }`,
    'pipelines: [{ name: ccfraud, workspace: demo, upstreamFormat: arrow, inputSchema: { tensor: "fixed_size_list<float32>[29]" } }, { name: llm, workspace: demo }]',
    'logging: { level: trace }',
  ].join('\n'));
  const server = await spawnServer(t, [process.execPath, '--import', 'tsx', ENTRY, 'serve', '--config', join(dir, 'gateway.yaml')], { CLIENT_SECRET: clientSecret }, /Server listening at (http:\/\/127\.0\.0\.1:\d+)/);
  const url = server.match[1]!;
  const caller = { authorization: 'Bearer CALLER-token-5c2e', cookie: 'sid=CALLER-cookie-77aa' };
  assert.equal((await infer(url, 'ccfraud', ccfraudBody(), caller)).status, 200);
  simulator.control.revokeAllTokens();
  assert.equal((await infer(url, 'ccfraud', ccfraudBody(), caller)).status, 200); // 401 replay
  const errorPaths: Array<() => Promise<unknown>> = [
    () => infer(url, 'ccfraud', '{broken', caller),
    () => infer(url, 'ccfraud', 'x'.repeat(5_000), caller),
    () => infer(url, 'ccfraud', '[]', { 'content-type': 'text/plain' }),
    () => infer(url, 'ccfraud', ccfraudBody(), { accept: 'text/html' }),
    () => infer(url, 'nope', '[]', caller),
    () => infer(url, 'ccfraud', JSON.stringify([{ tensor: [1] }]), caller),
    () => call(`${url}/pipelines/llm/openai/v1/completions`, { method: 'POST', headers: { 'content-type': 'application/json', ...caller }, body: '{"prompt":' }),
    async () => {
      simulator.control.failInference(1, { status: 500 });
      return infer(url, 'ccfraud', ccfraudBody(), caller);
    },
    async () => {
      simulator.control.tokenEndpointDown = true;
      simulator.control.revokeAllTokens();
      return infer(url, 'ccfraud', ccfraudBody(), caller);
    },
  ];
  for (const exercise of errorPaths) await exercise();
  simulator.control.tokenEndpointDown = false;
  const exited = new Promise((resolve) => server.child.once('exit', resolve));
  server.child.kill('SIGTERM');
  await exited;

  const config = await runCli(['check-config', '--config', join(dir, 'gateway.yaml')], { CLIENT_SECRET: clientSecret, PORT: 'not-a-port' });
  const outputs = [server.stdout(), server.stderr(), config.stdout, config.stderr];
  assert.ok(server.stdout().length > 1_000, 'the run logged plenty at trace level');
  assert.match(server.stdout(), /GW_TOKEN_UNAVAILABLE/);
  const secrets = [clientSecret, password, 'CALLER-token-5c2e', 'CALLER-cookie-77aa', ...simulator.control.issuedTokens];
  for (const output of outputs) {
    for (const secret of secrets) assert.ok(!output.includes(secret), `leaked ${secret.slice(0, 14)}...`);
    assert.doesNotMatch(output, /eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}/, 'no JWT');
    assert.doesNotMatch(output, /\n\s+at .+\.(ts|js):\d+:\d+/, 'no stack trace');
  }
});
