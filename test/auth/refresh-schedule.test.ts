import assert from 'node:assert/strict';
import { test } from 'node:test';
import { refreshDelayMs } from '../../src/auth/token-manager.ts';

// Lifetimes real Wallaroo instances hand out (WallarooLabs/Wallaroo_Tutorials): sdk-client tokens of 60 s on many
// installs, 3600 s or 7200 s on others; the default lead is 60 s.
test('the refresh schedule is sane for every real token lifetime: never immediately, never in a token’s first two thirds', () => {
  const lead = 60_000;
  assert.equal(refreshDelayMs(60_000, lead), 40_000, 'a 60 s token with a 60 s lead: at 40 s, not at once and forever');
  assert.equal(refreshDelayMs(300_000, lead), 240_000);
  assert.equal(refreshDelayMs(3_600_000, lead), 3_540_000);
  assert.equal(refreshDelayMs(7_200_000, lead), 7_140_000);
  assert.equal(refreshDelayMs(3_600_000, 0), 3_600_000, 'a zero lead refreshes at expiry');
  assert.equal(refreshDelayMs(1_000, lead), 1_000, 'never sooner than a second, whatever the lifetime');
  assert.equal(refreshDelayMs(100, lead), 1_000);
  for (let lifetime = 1_000; lifetime <= 7_200_000; lifetime += 997) {
    const delay = refreshDelayMs(lifetime, lead);
    assert.ok(delay >= (lifetime * 2) / 3 - 1 && delay <= lifetime, `lifetime ${lifetime}: ${delay}`);
  }
});

test('a lifetime beyond setTimeout’s ceiling never schedules a refresh timer that fires at once', () => {
  const thirtyDays = 30 * 86_400_000;
  assert.equal(refreshDelayMs(thirtyDays, 60_000), 2 ** 31 - 1);
  assert.equal(refreshDelayMs(1e308 * 1000, 60_000), 2 ** 31 - 1);
});
