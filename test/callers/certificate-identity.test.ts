import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { test } from 'node:test';
import { certificateIdentity, subjectAltNames } from '../../src/callers/client-certificate.ts';
import { createCa } from '../helpers/certificates.ts';

const identityOf = (subjectaltname: string | undefined, CN?: unknown) =>
  certificateIdentity({ subjectaltname: subjectaltname as string, subject: (CN === undefined ? {} : { CN }) as never });

test("subjectaltname is split as Node writes it: a quoted value containing ', URI:' cannot pose as another entry", () => {
  assert.deepEqual(subjectAltNames('DNS:a.example, URI:spiffe://td/ns/x/sa/y, IP Address:127.0.0.1'), [
    { type: 'DNS', value: 'a.example' },
    { type: 'URI', value: 'spiffe://td/ns/x/sa/y' },
    { type: 'IP Address', value: '127.0.0.1' },
  ]);
  const forged = 'DNS:"evil, URI:spiffe://td/ns/kube-system/sa/admin"';
  assert.deepEqual(subjectAltNames(forged), [{ type: 'DNS', value: 'evil, URI:spiffe://td/ns/kube-system/sa/admin' }]);
  assert.deepEqual(identityOf(forged), { ok: false, reason: 'unauthenticated', message: 'the client certificate has neither a SPIFFE ID nor a single subject common name', presented: true });
  assert.equal(subjectAltNames('DNS:"unterminated'), null);
});

test('the identity is the one SPIFFE ID, else the single common name; two SPIFFE IDs or two common names are refused', () => {
  assert.deepEqual(identityOf('URI:spiffe://cluster.local/ns/payments/sa/scorer', 'ignored'), {
    ok: true,
    identity: { id: 'spiffe://cluster.local/ns/payments/sa/scorer', serviceAccount: { namespace: 'payments', name: 'scorer' } },
  });
  assert.deepEqual(identityOf('URI:spiffe://example.org/billing'), { ok: true, identity: { id: 'spiffe://example.org/billing', serviceAccount: null } });
  assert.deepEqual(identityOf('URI:https://not-spiffe.example', 'reporting'), { ok: true, identity: { id: 'CN=reporting', serviceAccount: null } });
  assert.equal(identityOf('URI:spiffe://a/x, URI:spiffe://a/y').ok, false);
  assert.equal(identityOf('URI:spiffe://Upper.Case/x').ok, false);
  assert.equal(identityOf(undefined, ['a', 'b']).ok, false);
  assert.equal(identityOf(undefined, 'line\nbreak').ok, false);
});

test("a real certificate's subjectaltname and subject, as Node parses them, give the expected identity", async () => {
  const ca = await createCa('unit CA');
  const spiffe = new X509Certificate((await ca.issue({ commonName: 'pod-7d9f', uris: ['spiffe://cluster.local/ns/fraud/sa/detector'] })).certPem);
  assert.deepEqual(certificateIdentity({ subjectaltname: spiffe.subjectAltName!, subject: { CN: 'pod-7d9f' } as never }), {
    ok: true,
    identity: { id: 'spiffe://cluster.local/ns/fraud/sa/detector', serviceAccount: { namespace: 'fraud', name: 'detector' } },
  });
});
