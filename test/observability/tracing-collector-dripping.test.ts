import assert from 'node:assert/strict';
import type { ServerResponse } from 'node:http';
import { test } from 'node:test';
import type { Registry } from 'prom-client';
import { ccfraudBody } from '../helpers/data.ts';
import { SERVER_WITHOUT_SHEDDING, simulatorConfig, startGateway } from '../helpers/gateway.ts';
import { infer } from '../helpers/http.ts';
import { listenHttp } from '../helpers/raw-http.ts';
import { useSimulator } from '../helpers/simulator.ts';
import { waitFor } from '../helpers/wait.ts';

// Hostile review: a collector that takes exports and drips its answer without end holds the exporter's two
// export slots; every later export is refused inside the gateway ("Concurrent export limit reached") and never
// sent. Those spans were counted as failed, "the collector refused", though only two exports ever reached it:
// an operator read the collector as rejecting 31,216 spans. They are dropped, and counted so.

async function spanCount(registry: Registry, outcome: string): Promise<number> {
  const metric = await registry.getSingleMetric('wallaroo_gateway_trace_spans_total')!.get();
  return metric.values.find((v) => v.labels.outcome === outcome)?.value ?? 0;
}

test('tracing: spans the exporter refuses while a dripping collector holds its export slots are dropped, not failed', async (t) => {
  const dripping = new Set<ServerResponse>();
  let exports = 0;
  const port = await listenHttp(t, (request, response) => {
    exports++;
    request.resume();
    response.writeHead(200, { 'content-type': 'application/x-protobuf' });
    dripping.add(response);
  });
  // A byte every 50 ms: the exporter's request timeout (exportTimeoutMs, an idle timeout) never fires.
  const drip = setInterval(() => {
    for (const response of dripping) response.write('\0');
  }, 50);
  t.after(() => clearInterval(drip));
  const simulator = await useSimulator(t);
  const gw = await startGateway(t, simulatorConfig(simulator, {
    server: SERVER_WITHOUT_SHEDDING,
    pipelines: [{ name: 'ccfraud', workspace: 'demo' }],
    tracing: { enabled: true, endpoint: `http://127.0.0.1:${port}/v1/traces`, exportIntervalMs: 10, maxExportBatchSize: 4, exportTimeoutMs: 2_000 },
  }));
  for (let i = 0; i < 10; i++) assert.equal((await infer(gw.url, 'ccfraud', ccfraudBody())).status, 200);
  await waitFor(async () => (await spanCount(gw.registry, 'dropped')) >= 8, 'spans refused by the full export slots to be counted', 30_000, 25);
  assert.equal(exports, 2, 'two exports reached the collector; it never finished them');
  assert.equal(await spanCount(gw.registry, 'failed'), 0);
  assert.equal(await spanCount(gw.registry, 'exported'), 0);
});
