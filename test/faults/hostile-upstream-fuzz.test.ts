import assert from 'node:assert/strict';
import type { Socket } from 'node:net';
import { test } from 'node:test';
import { request } from 'undici';
import { convertBody, jsonToArrow } from '../../src/convert/index.ts';
import { ERROR_CATALOG } from '../../src/errors.ts';
import { standInConfig, startGateway } from '../helpers/gateway.ts';
import { ARROW_FILE, ARROW_STREAM, call, JSON_RECORDS } from '../helpers/http.ts';
import { listenRaw } from '../helpers/raw-http.ts';
import { useSimulator } from '../helpers/simulator.ts';

// Issue 15, hostile upstream: random hostile answers from a real upstream (a raw TCP server, so framing can be
// broken at will) through the real gateway, on the inference route (relayed, and an Arrow file converted to the Arrow stream the caller asks for) and the
// OpenAI route (whole and streamed). Every answer must be a coded gateway error or a faithful relay of what
// Wallaroo sent, the process must survive, and /healthz and /metrics must answer afterwards.
// HOSTILE_FUZZ_SEED=<n> replays a run; each failure message names the seed and the case.

const CASES = 80;
const SEED = Number(process.env.HOSTILE_FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 31));

/** mulberry32: small, fast, and the same sequence for the same seed everywhere. */
function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Route = 'infer' | 'infer-to-stream' | 'openai' | 'openai-stream';

interface HostileCase {
  index: number;
  route: Route;
  kind: string;
  /** What the stand-in writes, in order, then it ends (or resets) the connection. */
  chunks: Buffer[];
  reset: boolean;
  /** The status line's code, when the answer has a valid one. */
  status: number | null;
  /** The body bytes as Wallaroo framed them (what a faithful relay passes on, or a prefix when cut). */
  body: Buffer;
  /** Framed as an Arrow file (a JSON caller then gets it converted to JSON). */
  arrowAnswer?: boolean;
}

const ARROW_ANSWER = Buffer.from(jsonToArrow(JSON.stringify([{ time: 1, out: { dense_1: [0.5] }, metadata: { elapsed: [1000, 2000] } }]), 'file'));
const JSON_ANSWER = '[{"time":1,"out":{"dense_1":[0.5]},"metadata":{"elapsed":[1000,2000]}}]';

const HOSTILE_NUMBERS: unknown[] = [-1, -1e9, 1e308, 2 ** 64, 'NaN', '12', null, 1.5, -0, true, { n: 1 }, [3], Number.MAX_SAFE_INTEGER + 2, 7];

function pick<T>(random: () => number, items: readonly T[]): T {
  return items[Math.floor(random() * items.length)]!;
}

function head(status: string, headers: Array<[string, string]>): string {
  return `HTTP/1.1 ${status}\r\n${headers.map(([name, value]) => `${name}: ${value}\r\n`).join('')}\r\n`;
}

function framed(status: number, contentType: string, body: Buffer, extra: Array<[string, string]> = []): Buffer {
  return Buffer.concat([Buffer.from(head(`${status} X`, [['content-type', contentType], ['content-length', String(body.length)], ...extra])), body]);
}

function usageChunk(random: () => number): string {
  return JSON.stringify({ id: 'c', choices: [], usage: { prompt_tokens: pick(random, HOSTILE_NUMBERS), completion_tokens: pick(random, HOSTILE_NUMBERS), total_tokens: pick(random, HOSTILE_NUMBERS) } });
}

/** An SSE body: CRLF or LF line ends, multi-line data, comments, garbage, usage with hostile numbers. */
function sseBody(random: () => number): Buffer {
  const eol = random() < 0.5 ? '\r\n' : '\n';
  const parts: Array<string | Buffer> = [];
  const events = 1 + Math.floor(random() * 5);
  for (let i = 0; i < events; i++) {
    const shape = Math.floor(random() * 6);
    if (shape === 0) parts.push(`data: {"choices":[{"text":"t${i}"}],"usage":null}${eol}${eol}`);
    else if (shape === 1) parts.push(`data: {"choices":[${eol}data: {"text":"split"}]}${eol}${eol}`); // multi-line data
    else if (shape === 2) parts.push(`: comment ${i}${eol}event: message${eol}data: ${usageChunk(random)}${eol}${eol}`);
    else if (shape === 3) parts.push(Buffer.from(Array.from({ length: 1 + Math.floor(random() * 64) }, () => Math.floor(random() * 256))));
    else if (shape === 4) parts.push(`data: ${usageChunk(random)}`); // no blank line: an unterminated event
    else parts.push(`data: [DONE]${eol}${eol}`);
  }
  return Buffer.concat(parts.map((part) => (typeof part === 'string' ? Buffer.from(part) : part)));
}

function corruptArrow(random: () => number): Buffer {
  const bytes = Buffer.from(ARROW_ANSWER);
  const flips = 1 + Math.floor(random() * 4);
  for (let i = 0; i < flips; i++) bytes[Math.floor(random() * bytes.length)] = Math.floor(random() * 256);
  return random() < 0.2 ? bytes.subarray(0, Math.floor(random() * bytes.length)) : bytes;
}

function makeCase(index: number, random: () => number): HostileCase {
  const route = pick(random, ['infer', 'infer-to-stream', 'openai', 'openai-stream'] as const);
  const kinds = ['invalid status', 'garbage head', 'truncated body', 'lying content-length', 'oversized headers', 'broken chunking', 'broken first chunk', 'closed without answer', 'reset mid-body', 'valid answer'];
  if (route === 'openai-stream') kinds.push('sse', 'sse', 'sse', 'sse');
  if (route === 'openai') kinds.push('usage values', 'usage values');
  if (route.startsWith('infer')) kinds.push('corrupt arrow', 'corrupt arrow');
  const kind = pick(random, kinds);
  const status = pick(random, [200, 200, 200, 400, 404, 500, 503]);
  const base = { index, route, kind, reset: false };
  switch (kind) {
    case 'invalid status': {
      const line = pick(random, ['99 Low', '1000 High', 'abc Nope', '', '2OO OK', '-1 Neg', '600 Beyond', '20 OK', '0200 OK']);
      return { ...base, kind: `invalid status ${JSON.stringify(line)}`, chunks: [Buffer.from(`HTTP/1.1 ${line}\r\ncontent-length: 2\r\n\r\n{}`)], status: null, body: Buffer.alloc(0) };
    }
    case 'garbage head':
      return { ...base, chunks: [Buffer.from(Array.from({ length: 1 + Math.floor(random() * 200) }, () => Math.floor(random() * 256)))], status: null, body: Buffer.alloc(0) };
    case 'truncated body': {
      const body = Buffer.from(JSON_ANSWER);
      return { ...base, chunks: [Buffer.from(head(`${status} X`, [['content-type', 'application/json'], ['content-length', String(body.length + 100)]])), body], status, body };
    }
    case 'lying content-length': {
      const body = Buffer.from(JSON_ANSWER);
      return { ...base, chunks: [Buffer.from(head(`${status} X`, [['content-type', 'application/json'], ['content-length', String(Math.floor(body.length / 2))]])), body], status, body };
    }
    case 'oversized headers':
      return { ...base, chunks: [framed(status, 'application/json', Buffer.from(JSON_ANSWER), [['x-big', 'a'.repeat(20_000 + Math.floor(random() * 80_000))]])], status: null, body: Buffer.alloc(0) };
    case 'broken chunking':
      return { ...base, chunks: [Buffer.from(`${head(`${status} X`, [['content-type', 'application/json'], ['transfer-encoding', 'chunked']])}5\r\n[{"a"\r\nzz\r\n1}]\r\n0\r\n\r\n`)], status, body: Buffer.from('[{"a"') };
    case 'broken first chunk': // not one body byte before the framing breaks
      return { ...base, chunks: [Buffer.from(`${head(`${status} X`, [['content-type', 'application/json'], ['transfer-encoding', 'chunked']])}ZZZ\r\n[{"a":1}]\r\n0\r\n\r\n`)], status, body: Buffer.alloc(0) };
    case 'closed without answer':
      return { ...base, chunks: [], status: null, body: Buffer.alloc(0) };
    case 'reset mid-body': {
      const body = Buffer.from(JSON_ANSWER);
      return { ...base, chunks: [Buffer.from(head(`${status} X`, [['content-type', 'application/json'], ['content-length', String(body.length)]])), body.subarray(0, 10)], reset: true, status, body };
    }
    case 'sse': {
      const body = sseBody(random);
      const chunked = random() < 0.5;
      const chunks = chunked
        ? [Buffer.from(head('200 OK', [['content-type', 'text/event-stream'], ['transfer-encoding', 'chunked']])), Buffer.from(`${body.length.toString(16)}\r\n`), body, Buffer.from('\r\n0\r\n\r\n')]
        : [Buffer.from(head('200 OK', [['content-type', 'text/event-stream']])), body];
      return { ...base, chunks, status: 200, body };
    }
    case 'usage values': {
      const body = Buffer.from(usageChunk(random));
      return { ...base, chunks: [framed(status, 'application/json', body)], status, body };
    }
    case 'corrupt arrow': {
      const body = corruptArrow(random);
      return { ...base, chunks: [framed(status, ARROW_FILE, body)], status, body, arrowAnswer: true };
    }
    default: {
      // The converting pipeline reads every 2xx answer as Arrow; the others pass on either format.
      const arrow = route === 'infer-to-stream' || (route === 'infer' && random() < 0.5);
      const body = arrow ? ARROW_ANSWER : Buffer.from(JSON_ANSWER);
      return { ...base, chunks: [framed(status, arrow ? ARROW_FILE : 'application/json', body)], status, body, arrowAnswer: arrow };
    }
  }
}

/** The stand-in Wallaroo: reads one request, finds its case by the forwarded x-request-id, plays it, closes. */
function playCases(cases: readonly HostileCase[]) {
  return (socket: Socket) => {
    let received = Buffer.alloc(0);
    socket.on('error', () => {});
    socket.on('data', (data: Buffer) => {
      received = Buffer.concat([received, data]);
      const end = received.indexOf('\r\n\r\n');
      if (end < 0) return;
      const headText = received.subarray(0, end).toString('latin1');
      const length = Number(/\r\ncontent-length: *(\d+)/i.exec(headText)?.[1] ?? 0);
      if (received.length < end + 4 + length) return;
      socket.removeAllListeners('data');
      const id = /\r\nx-request-id: *fuzz-(\d+)/i.exec(headText)?.[1];
      const hostile = id === undefined ? undefined : cases[Number(id)];
      if (!hostile) return void socket.destroy();
      for (const chunk of hostile.chunks) socket.write(chunk);
      if (hostile.reset) socket.resetAndDestroy();
      else socket.end();
    });
  };
}

interface Outcome {
  status: number;
  contentType: string;
  body: Buffer;
  /** The answer's body could not be read to its end (the relay was cut, as Wallaroo's answer was). */
  cut: boolean;
}

async function send(gatewayUrl: string, hostile: HostileCase): Promise<Outcome> {
  const stream = hostile.route === 'openai-stream';
  const openAi = hostile.route.startsWith('openai');
  const url = `${gatewayUrl}/pipelines/hostile/${openAi ? 'openai/v1/completions' : 'infer'}`;
  const headers: Record<string, string> = { 'x-request-id': `fuzz-${hostile.index}`, 'content-type': openAi ? 'application/json' : JSON_RECORDS };
  // An Arrow stream is asked of Wallaroo as an Arrow file, and its answer converted.
  if (hostile.route === 'infer-to-stream') headers.accept = ARROW_STREAM;
  const body = openAi ? JSON.stringify({ prompt: 'hi', stream }) : '[{"tensor":[1,2]}]';
  const response = await request(url, { method: 'POST', headers, body, headersTimeout: 20_000, bodyTimeout: 20_000 });
  const chunks: Buffer[] = [];
  let cut = false;
  try {
    for await (const chunk of response.body) chunks.push(chunk as Buffer);
  } catch {
    cut = true;
  }
  return { status: response.statusCode, contentType: String(response.headers['content-type'] ?? ''), body: Buffer.concat(chunks), cut };
}

/** No stack frames and no JavaScript error names in a message a caller sees. */
const INTERNAL_TEXT = /\n\s+at |\bat [\w.<>]+ \(|(Type|Range|Syntax|Reference)Error|undefined|\[object /;

/** A coded gateway error body, exactly the documented shape; else a reason. */
function codedProblem(status: number, body: unknown): string | null {
  if (body === null || typeof body !== 'object') return 'not an object';
  const { statusCode, code, error, message, ...rest } = body as Record<string, unknown>;
  if (Object.keys(rest).length > 0) return `extra keys ${Object.keys(rest).join(',')}`;
  const entry = ERROR_CATALOG[code as keyof typeof ERROR_CATALOG];
  if (!entry) return `unknown code ${String(code)}`;
  if (code === 'GW_INTERNAL') return 'GW_INTERNAL: a hostile answer from Wallaroo is never a gateway bug';
  if (statusCode !== status || entry.statusCode !== status) return `status ${status} but body ${String(statusCode)} and catalog ${entry.statusCode}`;
  if (typeof error !== 'string' || typeof message !== 'string') return 'error/message not strings';
  if (INTERNAL_TEXT.test(message)) return `internal text in message: ${message}`;
  return null;
}

function parseCoded(text: string): unknown {
  try {
    const parsed = JSON.parse(text) as { code?: unknown };
    return typeof parsed?.code === 'string' && parsed.code.startsWith('GW_') ? parsed : null;
  } catch {
    return null;
  }
}

const KEEPALIVE = Buffer.from(': keepalive\n\n');

/** Why an outcome is neither a coded error nor a faithful relay of the case; null when it is one of them. */
function judge(hostile: HostileCase, outcome: Outcome): string | null {
  const coded = parseCoded(outcome.body.toString('utf8'));
  if (coded) return codedProblem(outcome.status, coded);
  if (hostile.route === 'openai-stream' && outcome.contentType.startsWith('text/event-stream')) {
    if (outcome.status !== 200) return `a stream with status ${outcome.status}`;
    if (!outcome.body.subarray(0, KEEPALIVE.length).equals(KEEPALIVE)) return 'the stream does not start with the keepalive comment';
    const relayed = outcome.body.subarray(KEEPALIVE.length);
    // Faithful means Wallaroo's bytes with each NUL byte as U+FFFD (the SSE guard's one change to what passes).
    const upstream = Buffer.from([...hostile.body].flatMap((byte) => (byte === 0 ? [0xef, 0xbf, 0xbd] : [byte])));
    if (relayed.equals(upstream)) return null;
    // Cut by Wallaroo: the bytes so far (whole events), then a coded error event.
    const errorAt = relayed.lastIndexOf('event: error\ndata: ');
    if (errorAt < 0 || !upstream.subarray(0, errorAt).equals(relayed.subarray(0, errorAt))) return 'the stream is not the upstream bytes (plus a coded error event)';
    const data = relayed.subarray(errorAt + 'event: error\ndata: '.length).toString('utf8').trim();
    const event = parseCoded(data) as { statusCode?: number } | null;
    return event ? codedProblem(event.statusCode ?? 0, event) : `an error event without a coded body: ${data}`;
  }
  if (hostile.status === null) return `status ${outcome.status} relayed for an answer with no valid status`;
  if (outcome.status !== hostile.status) return `status ${outcome.status}, Wallaroo's was ${hostile.status}`;
  const relayed = outcome.body;
  if (hostile.route === 'infer' && hostile.arrowAnswer && hostile.status < 300 && !outcome.cut) {
    // An Arrow file though the gateway asked for JSON: converted to the JSON the caller wants, or a coded error.
    let expected: Buffer;
    try {
      expected = convertBody(hostile.body, 'arrow-file', 'json');
    } catch {
      return `an unreadable Arrow answer relayed as a ${outcome.status} instead of a coded error`;
    }
    return outcome.contentType.startsWith('application/json') && relayed.equals(expected) ? null : `converted answer of ${relayed.length} bytes (${outcome.contentType})`;
  }
  if (hostile.route === 'infer-to-stream' && hostile.status < 300 && !outcome.cut && hostile.kind !== 'lying content-length') {
    // Wallaroo's Arrow file, readable (a flipped byte may land in the values), converted into the stream asked for.
    let expected: Buffer;
    try {
      expected = convertBody(hostile.body, 'arrow-file', 'arrow-stream');
    } catch {
      return `an unreadable Arrow answer relayed as a ${outcome.status} instead of a coded error`;
    }
    return outcome.contentType.startsWith(ARROW_STREAM) && relayed.equals(expected) ? null : `converted answer of ${relayed.length} bytes (${outcome.contentType})`;
  }
  if (relayed.equals(hostile.body)) return null;
  if (hostile.body.subarray(0, relayed.length).equals(relayed) && (outcome.cut || hostile.kind === 'lying content-length')) return null;
  return `a ${outcome.status} body that is neither coded nor Wallaroo's (${relayed.length} bytes: ${JSON.stringify(relayed.subarray(0, 120).toString('latin1'))})`;
}

test(`hostile upstream answers never crash the gateway and are coded or relayed faithfully (seed ${SEED})`, { timeout: 240_000 }, async (t) => {
  t.diagnostic(`HOSTILE_FUZZ_SEED=${SEED}`);
  const random = prng(SEED);
  const cases = Array.from({ length: CASES }, (_, index) => makeCase(index, random));
  const simulator = await useSimulator(t);
  const port = await listenRaw(t, playCases(cases));
  // No retries and a breaker that never opens: every case reaches the stand-in and is judged on its own answer.
  const gateway = await startGateway(t, standInConfig(simulator, port, { name: 'hostile', maxRetries: 0, timeoutMs: 20_000, circuitBreaker: { failureThreshold: 1_000_000 } }));
  const kinds = new Map<string, number>();
  for (const hostile of cases) {
    const where = `seed ${SEED}, case ${hostile.index} (${hostile.route}, ${hostile.kind})`;
    const outcome = await send(gateway.url, hostile);
    const problem = judge(hostile, outcome);
    assert.equal(problem, null, `${where}: ${problem}`);
    kinds.set(hostile.kind, (kinds.get(hostile.kind) ?? 0) + 1);
  }
  t.diagnostic(`cases by kind: ${JSON.stringify(Object.fromEntries(kinds))}`);
  assert.equal((await call(`${gateway.url}/healthz`)).status, 200, `seed ${SEED}: /healthz after the run`);
  const metrics = await call(`${gateway.url}/metrics`);
  assert.equal(metrics.status, 200, `seed ${SEED}: /metrics after the run`);
  const tokenLines = metrics.text.split('\n').filter((line) => line.startsWith('wallaroo_gateway_llm_tokens_total'));
  for (const line of tokenLines) assert.match(line, / \d+$/, `seed ${SEED}: token counters stay whole, non-negative numbers: ${line}`);
});
