import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Agent, request } from 'undici';
import { createCa, type IssuedCertificate, writeGatewayTls } from '../helpers/certificates.ts';
import { callersConfig } from '../helpers/callers.ts';
import { startGateway } from '../helpers/gateway.ts';
import { call } from '../helpers/http.ts';
import { useSimulator } from '../helpers/simulator.ts';
import { useTempDir } from '../helpers/temp.ts';

test('mtls callers: a real TLS client with a certificate from the configured CA is identified by its SPIFFE ID or common name; without one, or with another CA, 401', async (t) => {
  const simulator = await useSimulator(t);
  const clusterCa = await createCa('cluster CA');
  const rogueCa = await createCa('rogue CA');
  const { certFile, keyFile, caFile } = await writeGatewayTls(clusterCa, useTempDir(t, 'gw-mtls'));
  const gw = await startGateway(t, callersConfig(simulator, {
    server: { host: '127.0.0.1', port: 0, tls: { certFile, keyFile } },
    callers: { authentication: 'mtls', mtls: { caFile } },
    pipelines: [{ name: 'summary', workspace: 'demo', allow: ['payments/scorer', 'CN=reporting'] }],
  }));
  const url = gw.url.replace('http:', 'https:');

  /** POSTs to the summary pipeline over a fresh TLS connection that trusts the cluster CA, presenting `client` if given. */
  const inferAs = async (client: IssuedCertificate | null, requestId: string) => {
    const dispatcher = new Agent({ connect: { ca: clusterCa.certPem, ...(client ? { cert: client.certPem, key: client.keyPem } : {}) } });
    try {
      const response = await request(`${url}/pipelines/summary/infer`, {
        method: 'POST',
        dispatcher,
        headers: { 'content-type': 'application/json; format=pandas-records', 'x-request-id': requestId },
        body: '[{"a":1}]',
      });
      return { status: response.statusCode, headers: response.headers, body: (await response.body.json()) as Record<string, unknown> };
    } finally {
      await dispatcher.close();
    }
  };

  const scorer = await clusterCa.issue({ uris: ['spiffe://cluster.local/ns/payments/sa/scorer'] });
  const reporting = await clusterCa.issue({ commonName: 'reporting' });
  const frontend = await clusterCa.issue({ commonName: 'ignored when a SPIFFE ID is present', uris: ['spiffe://cluster.local/ns/web/sa/frontend'] });
  const impostor = await rogueCa.issue({ uris: ['spiffe://cluster.local/ns/payments/sa/scorer'] });

  const bySpiffe = await inferAs(scorer, 'spiffe-1');
  assert.equal(bySpiffe.status, 200, JSON.stringify(bySpiffe.body));
  assert.equal((await inferAs(reporting, 'cn-1')).status, 200);

  const anonymous = await inferAs(null, 'anonymous-1');
  assert.equal(anonymous.status, 401);
  assert.deepEqual(anonymous.body, { statusCode: 401, code: 'GW_CALLER_UNAUTHENTICATED', error: 'Unauthorized', message: 'a client certificate is required' });
  assert.equal(anonymous.headers['www-authenticate'], 'ClientCertificate realm="wallaroo-gateway"');

  const untrusted = await inferAs(impostor, 'impostor-1');
  assert.equal(untrusted.status, 401);
  assert.match(String(untrusted.body.message), /^the client certificate is not trusted \([A-Z_]+\)$/);

  const forbidden = await inferAs(frontend, 'frontend-1');
  assert.equal(forbidden.status, 403);
  assert.equal(forbidden.body.message, 'spiffe://cluster.local/ns/web/sa/frontend is not allowed to call pipeline summary');

  const callers = Object.fromEntries(gw.logs.filter((l) => l.msg === 'request').map((l) => [l.reqId, l.caller]));
  assert.equal(callers['spiffe-1'], 'spiffe://cluster.local/ns/payments/sa/scorer');
  assert.equal(callers['cn-1'], 'CN=reporting');
  assert.equal(callers['anonymous-1'], undefined);

  // Probes and scrapers need no client certificate.
  const probe = new Agent({ connect: { ca: clusterCa.certPem } });
  t.after(() => probe.close());
  for (const path of ['/healthz', '/metrics']) {
    assert.equal((await request(`${url}${path}`, { dispatcher: probe }).then(async (r) => {
      await r.body.dump();
      return r.statusCode;
    })), 200, path);
  }
  // Plain HTTP is not served on the TLS port.
  await assert.rejects(call(`${gw.url}/healthz`));
});
