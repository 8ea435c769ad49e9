import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cachedPlanConversion, planCacheSize, planConversion } from '../../src/convert/negotiate.ts';

const CASES: Array<[string | undefined, string | undefined, 'passthrough' | 'arrow' | 'json']> = [
  ['application/json', undefined, 'passthrough'],
  ['application/json', '', 'passthrough'],
  ['application/json; format=pandas-records', 'application/vnd.apache.arrow.file', 'passthrough'],
  ['application/json', undefined, 'arrow'],
  ['application/vnd.apache.arrow.stream', undefined, 'passthrough'],
  ['application/vnd.apache.arrow.file', 'application/json', 'json'],
];

test('the remembered plan is the plan: same answer first time and every time after', () => {
  for (let round = 0; round < 3; round++) {
    for (const [contentType, accept, upstream] of CASES) {
      assert.deepEqual(cachedPlanConversion(contentType, accept, upstream), planConversion(contentType, accept, upstream), `${contentType} | ${accept} | ${upstream}`);
    }
  }
});

test('refusals are never remembered: a bad Content-Type or Accept fails every time, with its code', () => {
  for (let round = 0; round < 2; round++) {
    assert.throws(() => cachedPlanConversion(undefined, undefined, 'passthrough'), { code: 'GW_UNSUPPORTED_MEDIA_TYPE' });
    assert.throws(() => cachedPlanConversion('text/csv', undefined, 'passthrough'), { code: 'GW_UNSUPPORTED_MEDIA_TYPE' });
    assert.throws(() => cachedPlanConversion('application/json', 'text/html', 'passthrough'), { code: 'GW_NOT_ACCEPTABLE' });
  }
});

test('a flood of distinct header values plans correctly and the memory stays bounded', () => {
  for (let i = 0; i < 2_000; i++) {
    const accept = `application/json;q=0.${(i % 9) + 1}, x-made-up/type-${i}`;
    assert.equal(cachedPlanConversion('application/json', accept, 'passthrough').outbound, 'json');
    assert.ok(planCacheSize() <= 256, `remembered ${planCacheSize()} plans`);
  }
  const long = `application/json, ${'x/y, '.repeat(200)}`;
  const before = planCacheSize();
  assert.equal(cachedPlanConversion('application/json', long, 'passthrough').outbound, 'json');
  assert.ok(planCacheSize() <= before, 'an overlong header pair is planned but not remembered');
});

test('pairs in steady use stay remembered through a flood of odd ones (least recently used dropped first)', () => {
  const hot = cachedPlanConversion('application/json', 'application/vnd.apache.arrow.file', 'arrow');
  for (let i = 0; i < 2_000; i++) {
    cachedPlanConversion('application/json', `application/json;q=0.5, x-flood/type-${i}`, 'passthrough');
    if (i % 100 === 0) assert.equal(cachedPlanConversion('application/json', 'application/vnd.apache.arrow.file', 'arrow'), hot, `still the remembered plan after ${i} odd pairs`);
  }
});
