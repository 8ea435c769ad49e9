import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { convertBody, jsonToArrow } from '../../src/convert/index.ts';
import { GatewayError } from '../../src/errors.ts';
import { callerResponseHeaders, connectionListed, upstreamRequestHeaders } from '../../src/proxy/headers.ts';

/** Either a value or a coded GatewayError: anything else (a TypeError, a RangeError) is a bug. */
function codedOrValue(run: () => unknown): void {
  try {
    run();
  } catch (error) {
    assert.ok(error instanceof GatewayError, `uncoded ${(error as Error)?.constructor?.name}: ${(error as Error)?.message}`);
  }
}

const SEEDED = { numRuns: 400, interruptAfterTimeLimit: 15_000 };

test('fuzz: any JSON text into the converter gives Arrow or a coded error', () => {
  fc.assert(fc.property(fc.oneof(fc.json(), fc.string(), fc.jsonValue().map((v) => JSON.stringify([v, v]))), (text) => {
    codedOrValue(() => convertBody(Buffer.from(text), 'json', 'arrow-file'));
  }), SEEDED);
});

// A hang fails the run at the suite's timeout; how fast a case converts is the bench's business, not a test's.
test('fuzz: mutated Arrow files and streams give JSON or a coded error (no hang, no crash)', () => {
  const sources = [
    Buffer.from(jsonToArrow(JSON.stringify([{ a: 1, b: 'x', c: [1.5, 2], d: { e: true } }, { a: 2, b: null, c: [], d: null }]), 'file')),
    Buffer.from(jsonToArrow(JSON.stringify([{ t: [1, 2, 3], s: 'é' }]), 'stream')),
  ];
  fc.assert(fc.property(
    fc.nat({ max: 1 }),
    fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 6 }),
    (which, flips) => {
      const bytes = Buffer.from(sources[which]!);
      for (const [at, value] of flips) bytes[at % bytes.length] = value;
      codedOrValue(() => convertBody(bytes, which === 0 ? 'arrow-file' : 'arrow-stream', 'json'));
    },
  ), { numRuns: 3_000, interruptAfterTimeLimit: 20_000 });
});

test('fuzz: truncations and random bytes as Arrow are coded errors', () => {
  const file = Buffer.from(jsonToArrow('[{"a":1}]', 'file'));
  fc.assert(fc.property(fc.nat({ max: file.length - 1 }), (cut) => codedOrValue(() => convertBody(file.subarray(0, cut), 'arrow-file', 'json'))), SEEDED);
  fc.assert(fc.property(fc.uint8Array({ maxLength: 512 }), (bytes) => codedOrValue(() => convertBody(bytes, 'arrow-stream', 'json'))), SEEDED);
});

const headerName = fc.stringMatching(/^[a-z][a-z0-9-]{0,15}$/);
const headerMap = fc.dictionary(
  fc.oneof(headerName, fc.constantFrom('authorization', 'cookie', 'connection', 'keep-alive', 'transfer-encoding', 'upgrade', 'proxy-authorization', 'te', 'host', 'x-forwarded-for', 'set-cookie', 'server')),
  fc.string({ maxLength: 40 }),
);

test('fuzz: header hygiene holds for any caller headers and any Wallaroo answer headers', () => {
  fc.assert(fc.property(headerMap, fc.array(headerName, { maxLength: 4 }), (incoming, listed) => {
    const withConnection = { ...incoming, connection: listed.join(', ') };
    const out = upstreamRequestHeaders(withConnection, { token: 'T', requestId: 'r', contentType: 'ct', accept: 'a' });
    assert.equal(out.authorization, 'Bearer T', 'our token, never the caller\'s');
    for (const name of ['cookie', 'connection', 'keep-alive', 'transfer-encoding', 'upgrade', 'proxy-authorization', 'te', 'host', 'x-forwarded-for']) {
      assert.equal(out[name], undefined, name);
    }
    for (const name of connectionListed(withConnection.connection)) {
      if (!['authorization', 'content-type', 'accept', 'x-request-id'].includes(name)) assert.equal(out[name], undefined, `listed in Connection: ${name}`);
    }
    const back = callerResponseHeaders({ ...incoming, connection: listed.join(', ') }, { requestId: 'r', upstreamStatus: 200 });
    for (const name of ['set-cookie', 'server', 'connection', 'keep-alive', 'transfer-encoding', ...connectionListed(listed.join(','))]) {
      if (name !== 'x-request-id') assert.equal(back[name], undefined, name);
    }
  }), { numRuns: 500, interruptAfterTimeLimit: 10_000 });
});
