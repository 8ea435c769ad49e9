import assert from 'node:assert/strict';
import { test } from 'node:test';
import { tableToIPC } from 'apache-arrow';
import { arrowToJson, readArrow } from '../../src/convert/index.ts';
import { batchingSetup, occupy, tutorialRows, withoutTimes } from '../helpers/batching.ts';
import { sample } from '../helpers/data.ts';
import { ARROW_FILE, ARROW_STREAM, type Answer, infer, JSON_RECORDS } from '../helpers/http.ts';

const TENSOR = { tensor: 'fixed_size_list<float32>[29]' };
const tutorialTable = readArrow(sample('cc_data_1k.arrow'));
/** Row `i` of Wallaroo's tutorial Arrow file, as an Arrow IPC body of its own. */
const arrowRow = (i: number, format: 'file' | 'stream') => Buffer.from(tableToIPC(tutorialTable.slice(i, i + 1), format));
/** An answer as comparable text: Arrow answers as JSON, then without `time` and `elapsed`. */
const comparable = (answer: Answer) => withoutTimes(String(answer.headers['content-type']).startsWith('application/json') ? answer.text : arrowToJson(answer.body).toString());

interface Caller {
  body: string | Buffer;
  headers: Record<string, string>;
}

// On a pipeline whose upstreamFormat is set, callers sending pandas-records JSON and callers sending Arrow (file
// or stream) reach Wallaroo in the same format, so they share one call; each gets its answer in the format it
// asked for, as it would alone.
test('JSON and Arrow callers share one batch on a pipeline with upstreamFormat arrow', async (t) => {
  const setup = await batchingSetup(t, { maxRows: 3, maxDelayMs: 10_000 }, { upstreamFormat: 'arrow', inputSchema: TENSOR });
  const { simulator, gateway, callRows } = setup;
  const json = (i: number) => JSON.stringify(tutorialRows(1, i));
  const rounds: Caller[][] = [
    // No Accept: Wallaroo's default answer, pandas-records JSON, for all three.
    [
      { body: json(0), headers: {} },
      { body: arrowRow(1, 'file'), headers: { 'content-type': ARROW_FILE } },
      { body: arrowRow(2, 'stream'), headers: { 'content-type': ARROW_STREAM } },
    ],
    // Arrow answers: one Arrow call to Wallaroo, cut into an Arrow file, an Arrow stream and JSON's Arrow file.
    [
      { body: json(3), headers: { accept: ARROW_FILE } },
      { body: arrowRow(4, 'file'), headers: { 'content-type': ARROW_FILE, accept: ARROW_STREAM } },
      { body: arrowRow(5, 'stream'), headers: { 'content-type': ARROW_STREAM, accept: ARROW_FILE } },
    ],
  ];
  for (const [round, callers] of rounds.entries()) {
    const { release, blocker } = await occupy(setup);
    const batchReceived = simulator.control.waitFor('inference-received');
    const answers = Promise.all(callers.map((caller) => infer(gateway.url, 'batched', caller.body, caller.headers)));
    await batchReceived;
    const batchCall = simulator.control.seen.at(-1)!;
    assert.equal(batchCall.headers['content-type'], ARROW_FILE);
    assert.equal(batchCall.headers.accept, round === 0 ? JSON_RECORDS : ARROW_FILE);
    release();
    const batched = await answers;
    assert.equal((await blocker).status, 200);
    assert.deepEqual(callRows.slice(-2), [1, 3], `round ${round}: the blocker, then one call with all three rows`);
    for (const [i, caller] of callers.entries()) {
      const alone = await infer(gateway.url, 'alone', caller.body, caller.headers);
      assert.equal(alone.status, 200);
      assert.equal(batched[i]!.status, 200);
      assert.equal(batched[i]!.headers['content-type'], alone.headers['content-type']);
      assert.equal(comparable(batched[i]!), comparable(alone), `round ${round}, caller ${i}`);
    }
  }
});
