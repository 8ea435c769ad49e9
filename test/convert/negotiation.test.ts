import assert from 'node:assert/strict';
import { test } from 'node:test';
import { acceptedFormat, needsRequestConversion, needsResponseConversion, planConversion, requestFormat } from '../../src/convert/negotiate.ts';

test('request formats: pandas-records JSON (plain application/json too), Arrow file and stream; others 415', () => {
  assert.equal(requestFormat('application/json; format=pandas-records'), 'json');
  assert.equal(requestFormat('Application/JSON; charset=utf-8'), 'json');
  assert.equal(requestFormat('application/json; format="pandas-records"'), 'json');
  assert.equal(requestFormat('application/vnd.apache.arrow.file'), 'arrow-file');
  assert.equal(requestFormat('application/vnd.apache.arrow.stream'), 'arrow-stream');
  for (const bad of [undefined, '', 'text/csv', 'application/json; format=custom-json', 'application/xml', 'garbage']) {
    assert.throws(() => requestFormat(bad), { code: 'GW_UNSUPPORTED_MEDIA_TYPE', statusCode: 415 }, String(bad));
  }
});

test('Accept: q-values, wildcards meaning "no preference", and 406 when nothing fits', () => {
  assert.equal(acceptedFormat(undefined, 'json'), null);
  assert.equal(acceptedFormat('*/*', 'json'), null);
  assert.equal(acceptedFormat('application/vnd.apache.arrow.file', 'json'), 'arrow-file');
  assert.equal(acceptedFormat('application/json;q=0.5, application/vnd.apache.arrow.stream', 'json'), 'arrow-stream');
  assert.equal(acceptedFormat('application/vnd.apache.arrow.file;q=0.9, application/json', 'arrow-file'), 'json');
  assert.equal(acceptedFormat('text/html, application/vnd.apache.arrow.file;q=0.1', 'json'), 'arrow-file');
  assert.equal(acceptedFormat('application/vnd.apache.arrow.file, application/json', 'json'), 'json', 'equal q: the caller\'s own format');
  assert.equal(acceptedFormat('*/*;q=0.1, application/json', 'arrow-file'), 'json');
  assert.throws(() => acceptedFormat('text/html', 'json'), { code: 'GW_NOT_ACCEPTABLE', statusCode: 406 });
  assert.throws(() => acceptedFormat('application/json;q=0', 'json'), { code: 'GW_NOT_ACCEPTABLE' });
});

test('plans: passthrough converts nothing Wallaroo can read; upstreamFormat decides what Wallaroo receives', () => {
  const passthrough = planConversion('application/json', undefined, 'passthrough');
  assert.deepEqual(passthrough, { inbound: 'json', upstreamRequest: 'json', upstreamResponse: 'json', outbound: 'json' });
  assert.equal(needsRequestConversion(passthrough) || needsResponseConversion(passthrough), false);

  const arrowUpstream = planConversion('application/json', undefined, 'arrow');
  assert.deepEqual(arrowUpstream, { inbound: 'json', upstreamRequest: 'arrow-file', upstreamResponse: 'json', outbound: 'json' });
  assert.equal(needsRequestConversion(arrowUpstream), true);
  assert.equal(needsResponseConversion(arrowUpstream), false, 'Wallaroo answers in JSON when asked');

  const stream = planConversion('application/vnd.apache.arrow.stream', 'application/vnd.apache.arrow.stream', 'passthrough');
  assert.deepEqual(stream, { inbound: 'arrow-stream', upstreamRequest: 'arrow-file', upstreamResponse: 'arrow-file', outbound: 'arrow-stream' });
  assert.equal(needsRequestConversion(stream) && needsResponseConversion(stream), true);

  assert.deepEqual(planConversion('application/vnd.apache.arrow.file', 'application/json', 'json'), {
    inbound: 'arrow-file', upstreamRequest: 'json', upstreamResponse: 'json', outbound: 'json',
  });
});

test("without a preference (no Accept, or only wildcards) the answer is Wallaroo's default, pandas-records JSON, whatever was sent", () => {
  for (const contentType of ['application/json', 'application/vnd.apache.arrow.file', 'application/vnd.apache.arrow.stream']) {
    for (const accept of [undefined, '', '*/*', 'application/*', '*/*;q=0.8, application/*;q=0.5']) {
      for (const upstream of ['passthrough', 'arrow', 'json'] as const) {
        const plan = planConversion(contentType, accept, upstream);
        assert.equal(plan.outbound, 'json', `${contentType} | ${accept} | ${upstream}`);
        assert.equal(plan.upstreamResponse, 'json', 'Wallaroo is asked for JSON');
        assert.equal(needsResponseConversion(plan), false, 'so the answer is never converted');
      }
    }
  }
  assert.equal(planConversion('application/vnd.apache.arrow.file', 'application/vnd.apache.arrow.file', 'passthrough').outbound, 'arrow-file', 'Arrow when asked');
});
