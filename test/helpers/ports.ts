import { createServer, type AddressInfo } from 'node:net';

/** A loopback port that was free a moment ago (for servers that cannot listen on port 0 themselves). */
export async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

/**
 * A loopback port below Linux's ephemeral range (32768-60999) that was free a moment ago, for a server a test stops
 * and starts again on the same port (Redis through an outage). A port from `freePort` is an ephemeral one: between
 * the stop and the start, another process's outgoing connection or port-0 listener could take it (CI saw
 * "Address already in use" with four suites at once). Below the range only another test's explicit pick can.
 */
export async function freeRestartablePort(): Promise<number> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const port = 20_000 + Math.floor(Math.random() * 12_000);
    const probe = createServer();
    const free = await new Promise<boolean>((resolve) => {
      probe.once('error', () => resolve(false));
      probe.listen(port, '127.0.0.1', () => resolve(true));
    });
    if (free) {
      await new Promise((resolve) => probe.close(resolve));
      return port;
    }
  }
  throw new Error('no free loopback port between 20000 and 32000 after 100 tries');
}
