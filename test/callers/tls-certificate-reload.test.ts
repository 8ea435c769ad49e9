import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { mkdirSync, renameSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';
import { connect } from 'node:tls';
import { createCa, type IssuedCertificate } from '../helpers/certificates.ts';
import { callersConfig } from '../helpers/callers.ts';
import { startGateway } from '../helpers/gateway.ts';
import { useSimulator } from '../helpers/simulator.ts';
import { useTempDir } from '../helpers/temp.ts';

/** The fingerprint of the certificate the server presents on a new connection. */
function servedFingerprint(port: number, ca: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port, ca, servername: 'localhost' }, () => {
      const fingerprint = socket.getPeerCertificate().fingerprint256;
      socket.end();
      resolve(fingerprint);
    });
    socket.once('error', reject);
  });
}

/** Polls `probe` (no event says when the watch fired) until it returns `expected`, at most 100 times. */
async function eventually<T>(probe: () => Promise<T> | T, expected: T): Promise<T> {
  let value = await probe();
  for (let i = 0; i < 100 && value !== expected; i++) {
    await sleep(50);
    value = await probe();
  }
  return value;
}

test('server.tls: certificate and key are re-read when a Kubernetes Secret mount swaps them; a mismatched pair is refused and the old one kept', async (t) => {
  const simulator = await useSimulator(t);
  const ca = await createCa('cluster CA');
  const dir = useTempDir(t, 'gw-tls-reload');
  // The layout the kubelet writes: timestamped directories, a ..data symlink swapped atomically, file symlinks into it.
  let generation = 0;
  const publish = (pair: { certPem: string; keyPem: string }) => {
    const version = `..2026_01_01_00_00_0${++generation}`;
    mkdirSync(join(dir, version));
    writeFileSync(join(dir, version, 'tls.crt'), pair.certPem);
    writeFileSync(join(dir, version, 'tls.key'), pair.keyPem);
    symlinkSync(version, join(dir, '..data_tmp'));
    renameSync(join(dir, '..data_tmp'), join(dir, '..data'));
  };
  const first: IssuedCertificate = await ca.issue({ commonName: 'gateway-1', server: true });
  publish(first);
  symlinkSync('..data/tls.crt', join(dir, 'tls.crt'));
  symlinkSync('..data/tls.key', join(dir, 'tls.key'));

  const gw = await startGateway(t, callersConfig(simulator, {
    server: { host: '127.0.0.1', port: 0, tls: { certFile: join(dir, 'tls.crt'), keyFile: join(dir, 'tls.key') } },
  }));
  const port = Number(new URL(gw.url).port);
  const fingerprint = (pem: string) => new X509Certificate(pem).fingerprint256;
  assert.equal(await servedFingerprint(port, ca.certPem), fingerprint(first.certPem));

  const second = await ca.issue({ commonName: 'gateway-2', server: true });
  publish(second);
  assert.equal(await eventually(() => servedFingerprint(port, ca.certPem), fingerprint(second.certPem)), fingerprint(second.certPem));
  assert.match(gw.logText(), /TLS certificate reloaded/);

  // A new certificate with the previous key (a half-finished rotation): refused, the served one stays.
  const third = await ca.issue({ commonName: 'gateway-3', server: true });
  publish({ certPem: third.certPem, keyPem: second.keyPem });
  assert.equal(await eventually(() => /cannot be used; keeping the previous certificate/.test(gw.logText()), true), true);
  assert.equal(await servedFingerprint(port, ca.certPem), fingerprint(second.certPem));
});
