import { type ChildProcess, spawn } from 'node:child_process';
import type { TestContext } from 'node:test';
import { freeRestartablePort } from './ports.ts';

export interface RedisServer {
  url: string;
  port: number;
  stop(): Promise<void>;
  start(): Promise<void>;
}

/** A real redis-server on 127.0.0.1, no persistence, stopped when the test ends. (.ci/run installs it.) */
export async function useRedis(t: TestContext): Promise<RedisServer> {
  const port = await freeRestartablePort(); // stop() and start() reuse it
  let child: ChildProcess | null = null;
  const start = () =>
    new Promise<void>((resolve, reject) => {
      const process_ = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: ['ignore', 'pipe', 'pipe'] });
      child = process_;
      let output = '';
      const timer = setTimeout(() => reject(new Error(`redis-server did not start:\n${output}`)), 10_000);
      process_.on('error', (error) => {
        clearTimeout(timer);
        reject(new Error(`cannot run redis-server (${error.message}); install it: apt-get install redis-server`));
      });
      process_.stdout!.on('data', (chunk) => {
        output += chunk;
        if (/Ready to accept connections/.test(output)) {
          clearTimeout(timer);
          resolve();
        }
      });
    });
  const stop = () =>
    new Promise<void>((resolve) => {
      const running = child;
      child = null;
      if (!running || running.exitCode !== null) return resolve();
      running.once('exit', () => resolve());
      running.kill('SIGKILL');
    });
  await start();
  t.after(stop);
  return { url: `redis://127.0.0.1:${port}/0`, port, stop, start };
}
