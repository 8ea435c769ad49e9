import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AllowList } from '../../src/callers/allow-list.ts';
import { commonNameIdentity, serviceAccountIdentity, spiffeIdentity } from '../../src/callers/identity.ts';
import { parseCallerPattern } from '../../src/config/caller-patterns.ts';

const sa = (subject: string) => serviceAccountIdentity(subject)!;
const spiffe = (id: string) => spiffeIdentity(id)!;

test('namespace/name patterns match service accounts, from tokens and from Kubernetes-shaped SPIFFE IDs alike', () => {
  const list = new AllowList(['payments/scorer', 'fraud/*', 'system:serviceaccount:ops:batch']);
  assert.equal(list.allows(sa('system:serviceaccount:payments:scorer')), true);
  assert.equal(list.allows(sa('system:serviceaccount:payments:other')), false);
  assert.equal(list.allows(sa('system:serviceaccount:fraud:anything')), true);
  assert.equal(list.allows(sa('system:serviceaccount:ops:batch')), true);
  assert.equal(list.allows(sa('system:serviceaccount:fraudster:x')), false, 'a segment matches whole, never by prefix');
  assert.equal(list.allows(spiffe('spiffe://cluster.local/ns/fraud/sa/detector')), true);
  assert.equal(list.allows(spiffe('spiffe://cluster.local/ns/fraud/sa/detector/extra')), false);
  assert.equal(list.allows(commonNameIdentity('fraud/detector')!), false, 'a common name is never a service account');
  assert.equal(new AllowList(['*/scorer']).allows(sa('system:serviceaccount:any:scorer')), true);
});

test('SPIFFE patterns match segment by segment; CN= patterns match a certificate common name exactly; * matches any verified caller', () => {
  const list = new AllowList(['spiffe://example.org/billing/*', 'CN=reporting.internal']);
  assert.equal(list.allows(spiffe('spiffe://example.org/billing/api')), true);
  assert.equal(list.allows(spiffe('spiffe://example.org/billing/api/v2')), false);
  assert.equal(list.allows(spiffe('spiffe://other.org/billing/api')), false);
  assert.equal(list.allows(commonNameIdentity('reporting.internal')!), true);
  assert.equal(list.allows(commonNameIdentity('reporting.internal.evil')!), false);
  assert.equal(list.allows(sa('system:serviceaccount:billing:api')), false);
  assert.equal(new AllowList(['*']).allows(commonNameIdentity('anyone')!), true);
  assert.equal(new AllowList([]).allows(sa('system:serviceaccount:payments:scorer')), false, 'an empty list allows no one');
});

test('malformed patterns are refused with a reason', () => {
  const refusals: Array<[string, RegExp]> = [
    ['payments', /must be namespace\/name/],
    ['Payments/scorer', /not a Kubernetes namespace name/],
    ['payments/sc orer', /not a Kubernetes service account name/],
    ['pay*/scorer', /not a Kubernetes namespace name/],
    ['a/b/c', /must be namespace\/name/],
    ['spiffe://Example.org/x', /not a SPIFFE ID/],
    ['spiffe://example.org/x/', /not a SPIFFE ID/],
    ['spiffe://example.org/../x', /not a SPIFFE ID/],
    ['CN=', /1 to 256 printable characters/],
  ];
  for (const [pattern, reason] of refusals) assert.throws(() => parseCallerPattern(pattern), reason, pattern);
  assert.deepEqual(parseCallerPattern('spiffe://example.org'), { kind: 'spiffe', trustDomain: 'example.org', path: [] });
});
