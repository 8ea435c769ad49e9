import assert from 'node:assert/strict';
import { test } from 'node:test';
import { demoPipelines } from '../../src/cli/serve.ts';
import { call } from '../helpers/http.ts';
import { ENTRY, spawnServer } from '../helpers/process.ts';

// Releases before 2025 have no OpenAI-compatible endpoints: the demo on one configures no OpenAI pipeline and
// prints no streaming curl line that could only answer 502 GW_DISCOVERY_FAILED.

test('the demo on a release without OpenAI endpoints configures and prints no OpenAI pipeline', async (t) => {
  assert.deepEqual(demoPipelines({ openAi: true }).map((p) => p.name), ['ccfraud', 'summary', 'llm']);

  const server = await spawnServer(t, [process.execPath, '--import', 'tsx', ENTRY, 'demo', '--simulate-version', '2024.2'], { PORT: '0' }, /^also: curl/m);
  const out = server.stdout();
  const gateway = /gateway on (http:\/\/127\.0\.0\.1:\d+), embedded Wallaroo 2024\.2 simulator/.exec(out)?.[1];
  assert.ok(gateway, out);
  assert.doesNotMatch(out, /openai|OpenAI/);
  assert.match(out, /curl -s -X POST http:\/\/127\.0\.0\.1:\d+\/pipelines\/ccfraud\/infer/);

  const listed = await call(`${gateway}/pipelines`);
  assert.equal(listed.status, 200);
  assert.deepEqual(listed.json<{ pipelines: Array<{ name: string }> }>().pipelines.map((p) => p.name), ['ccfraud', 'summary']);
  const chat = await call(`${gateway}/pipelines/llm/openai/v1/chat/completions`, { headers: { 'content-type': 'application/json' }, body: '{"messages":[]}' });
  assert.equal(chat.status, 404);
  assert.equal(chat.json<{ code: string }>().code, 'GW_PIPELINE_NOT_FOUND');

  const exited = new Promise<number | null>((resolve) => server.child.once('exit', (code) => resolve(code)));
  server.child.kill('SIGTERM');
  assert.equal(await exited, 0);
});
