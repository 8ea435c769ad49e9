import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:net';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type TestContext, test } from 'node:test';
import { runCli } from '../helpers/process.ts';
import { useTempDir } from '../helpers/temp.ts';

// A listener that cannot bind is one clear line on stderr and exit 1, never a stack trace.

async function holdPort(t: TestContext): Promise<number> {
  const server: Server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => server.close());
  return (server.address() as { port: number }).port;
}

function writeConfig(dir: string, lines: string[]): string {
  writeFileSync(join(dir, 'secret'), 'not-used');
  const file = join(dir, 'gateway.yaml');
  // Wallaroo is never reached: each case fails before or while listening.
  writeFileSync(file, ['wallaroo: { url: "http://127.0.0.1:9", auth: { clientSecretFile: ./secret } }', 'pipelines: [{ name: ccfraud, workspace: demo }]', 'logging: { level: silent }', ...lines].join('\n'));
  return file;
}

test('serve: the traffic port already in use', async (t) => {
  const port = await holdPort(t);
  const file = writeConfig(useTempDir(t, 'gw-start'), [`server: { host: 127.0.0.1, port: ${port} }`]);
  const result = await runCli(['serve', '--config', file]);
  assert.equal(result.code, 1);
  assert.equal(result.stderr, `wallaroo-gateway: cannot listen on 127.0.0.1:${port} for traffic (server.host, server.port or PORT): the port is already in use (EADDRINUSE)\n`);
});

test('serve: the metrics port already in use (the traffic listener is closed again, the process exits)', async (t) => {
  const port = await holdPort(t);
  const file = writeConfig(useTempDir(t, 'gw-start'), ['server: { host: 127.0.0.1, port: 0 }', `metrics: { host: 127.0.0.1, port: ${port} }`]);
  const result = await runCli(['serve', '--config', file]);
  assert.equal(result.code, 1);
  assert.equal(result.stderr, `wallaroo-gateway: cannot listen on 127.0.0.1:${port} for metrics and probes (metrics.host, metrics.port): the port is already in use (EADDRINUSE)\n`);
});
