import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { test } from 'node:test';
import { ccfraudBody } from '../helpers/data.ts';
import { simulatorConfig, startGateway } from '../helpers/gateway.ts';
import { infer } from '../helpers/http.ts';
import { pipelineStatus } from '../helpers/pipelines.ts';
import { useSimulator } from '../helpers/simulator.ts';
import { waitFor } from '../helpers/wait.ts';

/** Sends the headers and part of a body, then hangs up. */
function leaveMidUpload(gatewayUrl: string, declaredBytes: number, sentBytes: number): Promise<void> {
  const { hostname, port } = new URL(gatewayUrl);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => {
      socket.write(`POST /pipelines/ccfraud/infer HTTP/1.1\r\nHost: gw\r\nContent-Type: application/json\r\nContent-Length: ${declaredBytes}\r\n\r\n`);
      socket.write(Buffer.alloc(sentBytes, 0x20), () => {
        socket.destroy();
        resolve();
      });
    });
    socket.on('error', reject);
  });
}

test('callers leaving mid-upload, small (kept for replay) or large (streamed to Wallaroo), never count against Wallaroo: the breaker stays closed', async (t) => {
  const simulator = await useSimulator(t);
  const gw = await startGateway(t, simulatorConfig(simulator, {
    pipelines: [{ name: 'ccfraud', workspace: 'demo', circuitBreaker: { failureThreshold: 2, cooldownMs: 60_000 } }],
  }));
  assert.equal((await infer(gw.url, 'ccfraud', ccfraudBody())).status, 200);
  for (const [declared, sent] of [[2_000, 100], [2_000, 100], [2_000, 100], [20_000_000, 3_000_000], [20_000_000, 3_000_000], [20_000_000, 3_000_000]] as const) {
    await leaveMidUpload(gw.url, declared, sent);
    await waitFor(async () => (await pipelineStatus(gw.url, 'ccfraud')).inflight === 0, 'the gateway to let the request go');
  }
  const status = await pipelineStatus(gw.url, 'ccfraud');
  assert.equal(status.breaker, 'closed', 'six callers leaving (threshold 2) are not six Wallaroo failures');
  assert.equal((await infer(gw.url, 'ccfraud', ccfraudBody())).status, 200);
  // Log lines are written in batches: the last request's line may follow its answer by a flush interval.
  const requestLines = () => gw.logs.filter((l) => l.msg === 'request' && l.route === 'infer');
  await waitFor(() => requestLines().length >= 8, 'every request to have its line, the abandoned ones too');
  const lines = requestLines();
  assert.equal(lines.length, 8, 'every request has its line, the abandoned ones too');
  const abandoned = lines.filter((l) => l.status !== 200);
  assert.equal(abandoned.length, 6);
  // Logged as the caller's doing (499 caller gone, or 400 for a body cut short), never as a Wallaroo failure.
  for (const line of abandoned) assert.ok(line.status === 499 || line.status === 400, JSON.stringify(line));
});
