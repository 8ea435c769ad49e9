import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { DEFAULT_CLIENT_SECRET } from '../../src/simulator/server.ts';
import { mergeConfig, simulatorWallaroo } from '../helpers/gateway.ts';
import { infer, readyStatus } from '../helpers/http.ts';
import { ROOT, spawnServer } from '../helpers/process.ts';
import { useSimulator } from '../helpers/simulator.ts';
import { ccfraudBody } from '../helpers/data.ts';
import { useTempDir } from '../helpers/temp.ts';

const run = promisify(execFile);

// A build and an npm install: minutes on a loaded 2-core machine, so longer than the suite's default timeout.
test("the Dockerfile's runtime stage: production-only install of the built package starts and turns ready", { timeout: 480_000 }, async (t) => {
  const dockerfile = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
  assert.match(dockerfile, /RUN npm ci --omit=dev/);
  assert.match(dockerfile, /^USER node$/m);
  assert.match(dockerfile, /^ENTRYPOINT \["node", "dist\/main\.js"\]$/m, 'exec form, so signals reach Node');
  // Every stage that runs npm has .npmrc (omit=peer) in place before it does.
  const stages = dockerfile.split(/^FROM /m).slice(1);
  assert.equal(stages.length, 2);
  for (const stage of stages) {
    const npmAt = stage.search(/^RUN npm /m);
    assert.ok(npmAt > 0, `a stage that runs npm: ${stage.split('\n')[0]}`);
    assert.match(stage.slice(0, npmAt), /^COPY package\.json package-lock\.json \.npmrc \.\/$/m, `.npmrc before npm in ${stage.split('\n')[0]}`);
  }
  // Kubernetes ignores HEALTHCHECK; a fixed port and scheme could not follow server.port or server.tls.
  assert.doesNotMatch(dockerfile, /^HEALTHCHECK/m);

  const app = useTempDir(t, 'gw-runtime');
  // Build stage: compile with the dev toolchain.
  await run(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', join(ROOT, 'tsconfig.json'), '--outDir', join(app, 'dist')], { cwd: ROOT });
  // Runtime stage: exactly the files the Dockerfile copies, then production dependencies only.
  for (const file of ['package.json', 'package-lock.json', '.npmrc', 'config.example.yaml', 'bin']) cpSync(join(ROOT, file), join(app, file), { recursive: true });
  await run('npm', ['ci', '--omit=dev', '--no-audit', '--no-fund', '--prefer-offline'], { cwd: app, timeout: 240_000 });
  const installed = JSON.parse((await run('npm', ['ls', '--omit=dev', '--json', '--depth=0'], { cwd: app })).stdout) as { dependencies: Record<string, unknown> };
  assert.ok(!('typescript' in installed.dependencies) && !('tsx' in installed.dependencies), 'no dev dependencies in the image');
  assert.ok('fastify' in installed.dependencies);

  const simulator = await useSimulator(t);
  writeFileSync(join(app, 'config.yaml'), [
    'server: { host: 127.0.0.1, port: 0, maxEventLoopDelayMs: 0 }',
    `wallaroo: ${JSON.stringify(mergeConfig(simulatorWallaroo(simulator), { auth: { clientSecret: undefined, clientSecretFile: './secret' } }))}`,
    'pipelines: [{ name: ccfraud, workspace: demo }]',
  ].join('\n'));
  writeFileSync(join(app, 'secret'), DEFAULT_CLIENT_SECRET);
  const server = await spawnServer(t, [process.execPath, join(app, 'dist/main.js'), 'serve', '--config', join(app, 'config.yaml')], { NODE_ENV: 'production' }, /Server listening at (http:\/\/127\.0\.0\.1:\d+)/);
  const url = server.match[1]!;
  assert.equal(await readyStatus(url, 50, 100), 200);
  assert.equal((await infer(url, 'ccfraud', ccfraudBody())).status, 200);
  const exited = new Promise<number | null>((resolve) => server.child.once('exit', resolve));
  server.child.kill('SIGTERM');
  assert.equal(await exited, 0);
});
