import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { readyStatus } from '../helpers/http.ts';
import { ROOT, spawnServer } from '../helpers/process.ts';
import { readEvents } from '../helpers/sse.ts';

test('npm start runs the demo: simulator + gateway, and both printed curl lines work (a prediction, a streamed chat)', async (t) => {
  const start = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: { start: string } }).scripts.start;
  assert.equal(start, 'node --import tsx src/main.ts demo');
  const [, ...args] = start.split(' ');
  const server = await spawnServer(t, [process.execPath, ...args], { PORT: '0' }, /^also: curl/m);
  const out = server.stdout();
  // The curl lines are printed once the gateway listens; the first Wallaroo token may still be on its way.
  const gateway = /gateway on (http:\/\/127\.0\.0\.1:\d+)/.exec(out)?.[1];
  assert.ok(gateway, out);
  assert.equal(await readyStatus(gateway, 300, 100), 200);

  const url = /curl -s -X POST (http:\/\/127\.0\.0\.1:\d+\/pipelines\/ccfraud\/infer)/.exec(out)?.[1];
  const contentType = /-H 'Content-Type: (application\/json; format=pandas-records)'/.exec(out)?.[1];
  const rowsBody = /-d '(\[.*\])'\n/.exec(out)?.[1];
  assert.ok(url && contentType && rowsBody, out);
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': contentType }, body: rowsBody });
  assert.equal(response.status, 200);
  const rows = (await response.json()) as Array<{ out: { dense_1: number[] } }>;
  assert.equal(rows.length, 1);
  const score = rows[0]!.out.dense_1[0]!;
  assert.ok(score > 0 && score < 1, `a probability: ${score}`);

  const chatUrl = /curl -sN -X POST (http:\/\/127\.0\.0\.1:\d+\/pipelines\/llm\/openai\/v1\/chat\/completions)/.exec(out)?.[1];
  const chatBody = /-d '(\{.*\})'\n/.exec(out)?.[1];
  assert.ok(chatUrl && chatBody, out);
  const { status, headers, events } = await readEvents(chatUrl, JSON.parse(chatBody));
  assert.equal(status, 200);
  assert.equal(headers['content-type'], 'text/event-stream; charset=utf-8');
  const data = events.filter((e) => e.data).map((e) => e.data!);
  assert.equal(data.at(-1), '[DONE]');
  const text = data.slice(0, -1).map((d) => (JSON.parse(d) as { choices: Array<{ delta: { content?: string } }> }).choices[0]!.delta.content ?? '').join('');
  assert.equal(text, 'Echo: me to back words these stream');

  // SIGTERM drains and exits 0.
  const exited = new Promise<number | null>((resolve) => server.child.once('exit', (code) => resolve(code)));
  server.child.kill('SIGTERM');
  assert.equal(await exited, 0);
});
