import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import { createLogger, isoTimeField } from '../../src/observability/logger.ts';

// The log line's `time` is formatted once per second and completed with the milliseconds (logger.ts): it must be
// exactly what `new Date(t).toISOString()` gives, at every boundary and when the clock steps back.

const at = (iso: string) => Date.parse(iso);

test('the time field equals toISOString at every millisecond width and across second, minute, day and year boundaries', () => {
  const instants = [
    at('2026-11-26T06:57:11.000Z'), at('2026-11-26T06:57:11.009Z'), at('2026-11-26T06:57:11.010Z'),
    at('2026-11-26T06:57:11.099Z'), at('2026-11-26T06:57:11.100Z'), at('2026-11-26T06:57:11.999Z'),
    at('2026-11-26T06:57:12.000Z'), at('2026-11-26T06:57:59.999Z'), at('2026-11-26T06:58:00.001Z'),
    at('2026-12-31T23:59:59.999Z'), at('2027-01-01T00:00:00.000Z'),
    // The clock stepped back (NTP): the cached second is not reused.
    at('2026-11-26T06:57:11.500Z'), at('2026-11-26T06:57:11.501Z'),
    0, 999, 1000,
  ];
  let i = 0;
  const field = isoTimeField(() => instants[i]!);
  for (; i < instants.length; i++) {
    assert.equal(field(), `,"time":"${new Date(instants[i]!).toISOString()}"`, `instant ${instants[i]}`);
  }
});

test("a logger's line carries the time as ISO 8601 in UTC with milliseconds", async () => {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(...chunk.toString('utf8').trim().split('\n'));
      done();
    },
  });
  const before = Date.now();
  createLogger('info', destination).info({ marker: 'time' }, 'request');
  const after = Date.now();
  const line = JSON.parse(lines[0]!) as { time: string; marker: string };
  assert.equal(line.marker, 'time');
  assert.match(line.time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  const logged = Date.parse(line.time);
  assert.ok(logged >= before && logged <= after, `${line.time} lies between ${new Date(before).toISOString()} and ${new Date(after).toISOString()}`);
});
