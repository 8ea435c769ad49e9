import assert from 'node:assert/strict';
import { test } from 'node:test';
import { convertBody } from '../../src/convert/index.ts';

// Issue 15, F14: apache-arrow's own error text (here a TypeError about destructuring) reached callers in
// GW_INVALID_ARROW messages. The payload: an Arrow stream of one row {a: 1, b: 'x', c: [1.5, 2]} with two bytes
// changed (found by fuzzing), which gets past the metadata checks and fails inside apache-arrow.
const STREAM = Buffer.from('/////xgBAAAQAAAAAAAKABAADgAHAAgACgAAAAAAAAEQAAAAAAAEAAgACAAAAAQACAAAAAQAAAADAAAArAAAAGwAAAAEAAAAcP///xQAAAAAAAABFAAAAAAAAAxMAAAAAQAAAGMAAAABAAAABAAAAJj///8UAAAAAAAAARgAAAAAAAADHAAAAAQAAABpdGVtAAAAAAAAAAAAAAYACAAGAAYAAAAAAAIA2P///9T///8UAAAAAAAAARQAAAAAAAAFFAAAAAEAAABiAAAAAAAAAAQABAAEAAAAEAAYAAQACwATABQAAAAMABAAAAAUAAAAAAAAARQAAAAAAAACGAAAAAEAAABhAAAAAAAAAAgADAAIAAcACAAAAAAAAAFAAAAA/////ygBAAAUAAAAAAAAAAwAFgAUAA8AEAAEAAwAAAAwAAAAAAAAAAAAAAMQAAAABAAKABgADAAIAAQACgAAABQAAACoAAAAAQAAAAAAAAAAAAAACQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAgAAAAAAAAACAAAAAAAAAAAAAAAAAAAAAgAAAAAAAAACAAAAAAAAAAQAAAAAAAAAAgAAAAAAAAAGAAAAAAAAAAAAAAAAAAAABgAAAAAAAAACAAAAAAAAAAgAAAAAAAAAAAAAAAAAAAAIAAAAAAAAAAQAAAAAAAAAAAAAAAEAAAAAQAAAAAAAAAAAAAAAAAAAAEAAAAAAAAAAAAAAAAAAAABAAAAAAAAAAAAAAAAAAAAAgAAAAAAAAAAAAAAAAAAAAEAAAAAAAAAAAAAAAEAAAB4AAAAAAAAAAAAAAACAAAAAAAAAAAA+D8AAAAAAAAAQP////8AAAAA', 'base64');
STREAM[386] = 76;
STREAM[351] = 252;

test('a corrupt Arrow body that fails inside apache-arrow gets the gateway\'s own message, not the library\'s', () => {
  assert.throws(() => convertBody(STREAM, 'arrow-stream', 'json'), (error: Error & { code?: string; cause?: unknown }) => {
    assert.equal(error.code, 'GW_INVALID_ARROW');
    assert.equal(error.message, 'the Arrow IPC body could not be read: its metadata or buffers are corrupt');
    assert.ok(error.cause instanceof Error, 'the library error is kept as the cause, for the log');
    return true;
  });
});
