import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { helm } from '../helpers/helm.ts';
import { CHART, checkConfigOffline, render, sidecarSnippet } from '../helpers/kube.ts';

test('sidecar mode renders only the config (traffic on 127.0.0.1, no per-caller rate limit) and a native-sidecar snippet in its NOTES', async () => {
  const manifests = await render('ci/sidecar-values.yaml');
  assert.deepEqual(manifests.map((m) => m.kind), ['ConfigMap']);
  const config = manifests[0]!.data['config.yaml'] as string;
  assert.match(config, /host: 127\.0\.0\.1/);
  assert.doesNotMatch(config, /default:/, 'no central 100 req/s for the whole pod');
  assert.match(config, /metrics:\n {2}port: 9090\n/);
  checkConfigOffline(config);

  const { initContainers, notes } = await sidecarSnippet('ci/sidecar-values.yaml');
  const gateway = initContainers[0]!;
  assert.equal(gateway.restartPolicy, 'Always', 'a native sidecar: starts before the app, stops after it');
  assert.equal(gateway.startupProbe.httpGet.path, '/healthz');
  assert.match(notes, /classic form/);

  // Without a metrics port nothing could probe the sidecar: the chart refuses.
  await assert.rejects(
    helm(['install', 'gw', CHART, '-f', join(CHART, 'ci/sidecar-values.yaml'), '--set', 'config.metrics.port=null', '--dry-run=client']),
    /sidecar mode needs config\.metrics\.port/,
  );
});
