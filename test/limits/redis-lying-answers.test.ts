import assert from 'node:assert/strict';
import type { Socket } from 'node:net';
import { test } from 'node:test';
import { simulatorConfig, startGateway } from '../helpers/gateway.ts';
import { request } from 'undici';
import { call, JSON_RECORDS } from '../helpers/http.ts';
import { listenRaw } from '../helpers/raw-http.ts';
import { useSimulator } from '../helpers/simulator.ts';

// Hostile review: a Redis (or something posing as one) that answers the window script with a bare number or nil
// crashed the gateway (a TypeError in a promise callback, exit 1), and one answering strings admitted every
// request with `RateLimit-Remaining: NaN`. Each is a store failure: counted, logged, and `failOpen` decides.

/** Each answer the window script gets, in RESP, as a lying server would write it. */
const LIES: Record<string, string> = {
  'a number': ':5\r\n',
  nil: '$-1\r\n',
  strings: '*2\r\n$3\r\nabc\r\n$3\r\nxyz\r\n',
  'negative counts': '*2\r\n:-100000\r\n:-5\r\n',
  'a ttl past the window': '*2\r\n:1\r\n:99999999999999\r\n',
};

const INFO = '# Server\r\nloading:0\r\n';

/** Speaks enough RESP for ioredis (INFO for its ready check, +OK otherwise) and answers every EVAL with `lie`. */
function lyingRedis(lie: () => string) {
  return (socket: Socket) => {
    let pending = Buffer.alloc(0);
    socket.on('error', () => undefined);
    socket.on('data', (data: Buffer) => {
      pending = Buffer.concat([pending, data]);
      for (;;) {
        const command = nextCommand(pending);
        if (!command) return;
        pending = pending.subarray(command.length);
        const name = command.words[0]?.toUpperCase();
        if (name === 'INFO') socket.write(`$${INFO.length}\r\n${INFO}\r\n`);
        else if (name === 'EVAL' || name === 'EVALSHA') socket.write(lie());
        else socket.write('+OK\r\n');
      }
    });
  };
}

/** One RESP array of bulk strings from the front of `buffer`, or null until it is all in. */
function nextCommand(buffer: Buffer): { words: string[]; length: number } | null {
  const text = buffer.toString('latin1');
  let at = text.indexOf('\r\n');
  if (at < 0 || text[0] !== '*') return null;
  const count = Number(text.slice(1, at));
  at += 2;
  const words: string[] = [];
  for (let i = 0; i < count; i++) {
    const end = text.indexOf('\r\n', at);
    if (end < 0) return null;
    const size = Number(text.slice(at + 1, end));
    if (text.length < end + 2 + size + 2) return null;
    words.push(text.slice(end + 2, end + 2 + size));
    at = end + 2 + size + 2;
  }
  return { words, length: at };
}

/** A lie taken as it came left the request waiting for a store callback that never came: each call is bounded. */
async function inferWithin(url: string): Promise<{ status: number; code?: string; headers: string }> {
  const response = await request(`${url}/pipelines/summary/infer`, { method: 'POST', headers: { 'content-type': JSON_RECORDS }, body: '[{"a":1}]', signal: AbortSignal.timeout(15_000) });
  const text = await response.body.text();
  return { status: response.statusCode, code: response.statusCode === 200 ? undefined : (JSON.parse(text) as { code: string }).code, headers: JSON.stringify(response.headers) };
}

test('a Redis answering the window script with nonsense is a store failure: failOpen decides, the process lives', async (t) => {
  let lie = LIES['a number']!;
  const port = await listenRaw(t, lyingRedis(() => lie));
  const simulator = await useSimulator(t);
  const limited = (failOpen: boolean) => ({
    pipelines: [{ name: 'summary', workspace: 'demo', rateLimit: { max: 3, timeWindow: '1m' } }],
    rateLimit: { store: 'redis', redisUrl: `redis://127.0.0.1:${port}`, failOpen, redisTimeoutMs: 5_000 },
  });
  const closed = await startGateway(t, simulatorConfig(simulator, limited(false)));
  const open = await startGateway(t, simulatorConfig(simulator, limited(true)));
  for (const [name, answer] of Object.entries(LIES)) {
    lie = answer;
    // Five requests against a limit of three: a lie taken as a count would admit them all (or crash the process).
    for (let i = 0; i < 5; i++) {
      const refused = await inferWithin(closed.url);
      assert.equal(refused.status, 503, name);
      assert.equal(refused.code, 'GW_RATE_LIMIT_UNAVAILABLE', name);
      const served = await inferWithin(open.url);
      assert.equal(served.status, 200, name);
      assert.doesNotMatch(served.headers, /NaN/, name);
    }
  }
  const count = Object.keys(LIES).length * 5;
  assert.match((await call(`${closed.url}/metrics`)).text, new RegExp(`^wallaroo_gateway_rate_limit_store_errors_total\\{outcome="refused"\\} ${count}$`, 'm'));
  assert.match((await call(`${open.url}/metrics`)).text, new RegExp(`^wallaroo_gateway_rate_limit_store_errors_total\\{outcome="allowed"\\} ${count}$`, 'm'));
  // Logged at most once per few seconds: the first lie names what Redis answered.
  assert.ok(closed.logs.some((l) => l.msg === 'rate-limit store unavailable' && l.reason === 'Redis answered the window count with 5, not [count >= 1, ttl]'));
  assert.equal((await call(`${closed.url}/healthz`)).status, 200);
});
