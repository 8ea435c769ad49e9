import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ENTRY, spawnServer } from '../helpers/process.ts';

test('npm start with no config: simulator + gateway, and the printed curl returns a prediction', async (t) => {
  const server = await spawnServer(t, [process.execPath, '--import', 'tsx', ENTRY], { PORT: '0' }, /-d '(\[.*\])'\n/);
  const out = server.stdout();
  const url = /curl -s -X POST (http:\/\/127\.0\.0\.1:\d+\/pipelines\/ccfraud\/infer)/.exec(out)?.[1];
  const contentType = /-H 'Content-Type: ([^']+)'/.exec(out)?.[1];
  assert.ok(url && contentType, out);
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': contentType }, body: server.match[1] });
  assert.equal(response.status, 200);
  const rows = (await response.json()) as Array<{ out: { dense_1: number[] } }>;
  assert.equal(rows.length, 1);
  const score = rows[0]!.out.dense_1[0]!;
  assert.ok(score > 0 && score < 1, `a probability: ${score}`);

  // SIGTERM drains and exits 0.
  const exited = new Promise<number | null>((resolve) => server.child.once('exit', (code) => resolve(code)));
  server.child.kill('SIGTERM');
  assert.equal(await exited, 0);
});
