import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { Dictionary, Int32, Table, tableToIPC, Utf8, vectorFromArray } from 'apache-arrow';
import { simulatorConfig, startGateway } from '../helpers/gateway.ts';
import { ARROW_FILE, infer } from '../helpers/http.ts';
import { useSimulator } from '../helpers/simulator.ts';
import { useTempDir } from '../helpers/temp.ts';

test('deeply nested JSON is refused with GW_JSON_TOO_DEEP; the process keeps serving', async (t) => {
  const simulator = await useSimulator(t);
  const gw = await startGateway(t, simulatorConfig(simulator, { pipelines: [{ name: 'summary', workspace: 'demo', upstreamFormat: 'arrow' }] }));
  for (const depth of [100, 100_000]) {
    const body = `[{"a":${'['.repeat(depth)}1${']'.repeat(depth)}}]`;
    const answer = await infer(gw.url, 'summary', body);
    assert.equal(answer.status, 400);
    assert.ok(['GW_JSON_TOO_DEEP', 'GW_INVALID_JSON'].includes(answer.json<{ code: string }>().code), `depth ${depth}`);
  }
  assert.equal((await infer(gw.url, 'summary', '[{"a":1}]')).status, 200);
});

// Converting 10^6 rows each way takes seconds alone and minutes on a loaded 2-core machine: the pipeline timeout
// and the test's are set for the second (a hang still ends in a failure).
test('10^6 tiny rows are converted and answered, not a crash or a hang', { timeout: 400_000 }, async (t) => {
  // Built before the gateway starts: building it blocks this process's event loop, which the gateway shares
  // here, and a gateway that saw its loop blocked sheds the next request (GW_OVERLOADED), as it should.
  const body = `[${Array.from({ length: 1_000_000 }, () => '{"a":1}').join(',')}]`;
  const simulator = await useSimulator(t);
  const gw = await startGateway(t, simulatorConfig(simulator, { pipelines: [{ name: 'summary', workspace: 'demo', upstreamFormat: 'arrow', timeoutMs: 300_000 }] }));
  const answer = await infer(gw.url, 'summary', body, { accept: 'application/json' }, '?dataset[]=out');
  assert.equal(answer.status, 200);
  const rows = answer.json<Array<{ out: { sum: number[] } }>>();
  assert.equal(rows.length, 1_000_000);
  assert.deepEqual(rows[999_999], { out: { sum: [1], count: [1] } });
});

test('Arrow with a type the gateway does not special-case (a dictionary column) still converts to JSON', async (t) => {
  const simulator = await useSimulator(t);
  const gw = await startGateway(t, simulatorConfig(simulator, { pipelines: [{ name: 'summary', workspace: 'demo', upstreamFormat: 'json' }] }));
  const table = new Table({
    label: vectorFromArray(['x', 'y', 'x'], new Dictionary(new Utf8(), new Int32())),
    n: vectorFromArray([1, 2, 3], new Int32()),
  });
  const answer = await infer(gw.url, 'summary', Buffer.from(tableToIPC(table, 'file')), { 'content-type': ARROW_FILE, accept: 'application/json' });
  assert.equal(answer.status, 200, answer.text);
  assert.equal(answer.json<unknown[]>().length, 3);
  const seen = simulator.control.seen.at(-1)!;
  assert.equal(seen.headers['content-type'], 'application/json; format=pandas-records', 'Wallaroo received the rows as JSON');
  assert.equal(seen.bodyBytes, Buffer.byteLength('[{"label":"x","n":1},{"label":"y","n":2},{"label":"x","n":3}]'));
});

test('a secret file that becomes unreadable at runtime: 503 GW_TOKEN_UNAVAILABLE naming the cause, never a crash', async (t) => {
  const simulator = await useSimulator(t);
  const dir = useTempDir(t, 'gw-secret');
  writeFileSync(join(dir, 'secret'), 'simulator-secret');
  const gw = await startGateway(t, simulatorConfig(simulator, { wallaroo: { auth: { clientSecret: undefined, clientSecretFile: join(dir, 'secret') } } }));
  assert.equal((await infer(gw.url, 'summary', '[{"a":1}]')).status, 200);
  rmSync(join(dir, 'secret'));
  simulator.control.revokeAllTokens();
  const answer = await infer(gw.url, 'summary', '[{"a":1}]');
  assert.equal(answer.status, 503);
  assert.deepEqual(answer.json(), {
    statusCode: 503, code: 'GW_TOKEN_UNAVAILABLE', error: 'Service Unavailable', message: 'no valid Wallaroo inference token: cannot read the secret file (ENOENT)',
  });
});
