import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { test } from 'node:test';
import { createCa, writeGatewayTls } from '../helpers/certificates.ts';
import { simulatorConfig, startGateway } from '../helpers/gateway.ts';
import { useSimulator } from '../helpers/simulator.ts';
import { useTempDir } from '../helpers/temp.ts';

// Hostile review: on the TLS listener, a connection that never finished its handshake (silent, or a partial
// ClientHello) stayed open without end, where the plain listener closes one without a request after
// server.headersTimeoutMs; 3,000 of them held 3,000 file descriptors. Node's handshake timeout was two minutes,
// and when it fired the gateway's client-error handler tried to write an HTTP answer on the unfinished TLS
// connection, which never closed it. The handshake now has the headers' bound, and a failed one is destroyed.

const HEADERS_TIMEOUT_MS = 1_000;
/** Far below Node's default handshake timeout (120 s), far above the configured one on a loaded machine. */
const BOUND_MS = 30_000;

test('a TLS connection that never completes its handshake is closed after server.headersTimeoutMs', async (t) => {
  const simulator = await useSimulator(t);
  const ca = await createCa('cluster CA');
  const { certFile, keyFile } = await writeGatewayTls(ca, useTempDir(t, 'gw-tls-handshake'));
  const gateway = await startGateway(t, simulatorConfig(simulator, {
    server: { host: '127.0.0.1', port: 0, headersTimeoutMs: HEADERS_TIMEOUT_MS, tls: { certFile, keyFile } },
  }));
  const port = Number(new URL(gateway.url).port);
  // One silent, one that sends the first bytes of a TLS record (a handshake header) and stops. Destroyed here
  // whatever happens, before the gateway closes (closing waits for them).
  const sockets: Socket[] = [];
  const closings = ['', '\x16\x03\x01\x02\x00\x01'].map(async (bytes) => {
    const socket = connect(port, '127.0.0.1');
    socket.on('error', () => undefined);
    sockets.push(socket);
    await new Promise<void>((resolve) => socket.once('connect', resolve));
    if (bytes) socket.write(Buffer.from(bytes, 'latin1'));
    const opened = Date.now();
    const closed = await new Promise<boolean>((resolve) => {
      const bound = setTimeout(() => resolve(false), BOUND_MS);
      socket.once('close', () => {
        clearTimeout(bound);
        resolve(true);
      });
    });
    return { bytes: bytes.length, closed, afterMs: Date.now() - opened };
  });
  const outcomes = await Promise.all(closings);
  for (const socket of sockets) socket.destroy();
  for (const outcome of outcomes) {
    assert.ok(outcome.closed, `a connection that sent ${outcome.bytes} handshake bytes was still open after ${BOUND_MS} ms`);
    assert.ok(outcome.afterMs >= HEADERS_TIMEOUT_MS - 50, `closed after ${outcome.afterMs} ms, before the bound`);
  }
});
