import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { request } from 'undici';
import { RequestSignal } from '../../src/http/request-signal.ts';

// The request path's light signal must behave as AbortSignal does wherever it is used: its own waits, undici,
// and Node's promise APIs that take a signal.

test('listeners run once on abort, in order, with the reason set; removed and late ones never run', () => {
  const signal = new RequestSignal();
  const calls: string[] = [];
  const first = () => calls.push(`first:${String(signal.reason)}`);
  const removed = () => calls.push('removed');
  signal.addEventListener('abort', first, { once: true });
  signal.addEventListener('abort', first); // the same listener twice is one listener
  signal.addEventListener('abort', removed);
  signal.addEventListener('abort', { handleEvent: (event) => calls.push(`object:${event.type}`) });
  signal.removeEventListener('abort', removed);
  signal.onabort = () => calls.push('onabort');
  assert.equal(signal.aborted, false);
  signal.throwIfAborted();

  signal.abort('gone');
  signal.abort('again');
  signal.addEventListener('abort', () => calls.push('late'));

  assert.equal(signal.aborted, true);
  assert.equal(signal.reason, 'gone');
  assert.deepEqual(calls, ['onabort', 'first:gone', 'object:abort']);
  assert.throws(() => signal.throwIfAborted(), (error) => error === 'gone');
});

test('undici aborts a request in flight with the reason, and Node promise APIs accept the signal', async () => {
  const server = createServer(() => undefined); // never answers
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  try {
    const signal = new RequestSignal();
    const reason = new Error('the caller left');
    const pending = request(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`, { signal });
    await once(server, 'request');
    signal.abort(reason);
    await assert.rejects(pending, (error) => error === reason);

    const waiting = new RequestSignal();
    const slept = sleep(60_000, undefined, { signal: waiting });
    waiting.abort(reason);
    await assert.rejects(slept, { name: 'AbortError' });
  } finally {
    server.closeAllConnections();
    server.close();
  }
});
