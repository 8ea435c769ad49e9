import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { parseAllDocuments } from 'yaml';
import { type Manifest, render, sidecarSnippet, unreachableProbes } from '../helpers/kube.ts';
import { ROOT } from '../helpers/process.ts';

// The kubelet probes the pod IP (httpGet.host is for host-network pods): every probe must target a port that
// a gateway listener binds on a non-loopback address in the config the pod runs with.

test('central mode (defaults and the Redis scenario): every probe reaches a listener on the pod IP', async () => {
  for (const values of ['', 'ci/default-values.yaml', 'ci/central-redis-values.yaml']) {
    const manifests = await render(values);
    const config = manifests.find((m) => m.kind === 'ConfigMap')!.data['config.yaml'] as string;
    for (const container of manifests.find((m) => m.kind === 'Deployment')!.spec.template.spec.containers as Manifest[]) {
      assert.deepEqual(unreachableProbes(container, config), [], values || 'defaults');
    }
  }
});

test("sidecar mode: the NOTES' native sidecar probes the metrics port while traffic stays on 127.0.0.1", async () => {
  for (const values of ['ci/sidecar-values.yaml']) {
    const config = (await render(values))[0]!.data['config.yaml'] as string;
    const { initContainers } = await sidecarSnippet(values);
    assert.deepEqual(unreachableProbes(initContainers[0]!, config), []);
  }
  // `--set mode=sidecar` on the chart's own defaults is a working sidecar too.
  const config = (await render('', ['--set', 'mode=sidecar', '--set', 'secret.existingSecret=s']))[0]!.data['config.yaml'] as string;
  assert.match(config, /host: 127\.0\.0\.1/);
  const { initContainers } = await sidecarSnippet('ci/sidecar-values.yaml');
  assert.deepEqual(unreachableProbes(initContainers[0]!, config), []);
});

test('examples/sidecar-deployment.yaml: every probe reaches a listener on the pod IP', () => {
  const docs = parseAllDocuments(readFileSync(join(ROOT, 'examples/sidecar-deployment.yaml'), 'utf8')).map((d) => d.toJS() as Manifest);
  const config = docs.find((d) => d.kind === 'ConfigMap')!.data['config.yaml'] as string;
  const pod = docs.find((d) => d.kind === 'Deployment')!.spec.template.spec;
  const gateway = (pod.initContainers as Manifest[]).find((c) => c.name === 'wallaroo-gateway')!;
  assert.deepEqual(unreachableProbes(gateway, config), []);
});

test('the check itself: a probe on the loopback traffic port, or with httpGet.host, is reported', () => {
  const config = 'server: { host: 127.0.0.1, port: 8080 }\nwallaroo: { url: https://w.example.com, auth: { clientSecretFile: /s } }\npipelines: [{ name: p, workspace: w }]\nmetrics: { port: 9090 }\n';
  const container = {
    name: 'gw',
    ports: [{ name: 'traffic', containerPort: 8080 }],
    readinessProbe: { httpGet: { path: '/readyz', port: 'traffic' } },
    livenessProbe: { httpGet: { path: '/healthz', port: 9090, host: '127.0.0.1' } },
    startupProbe: { httpGet: { path: '/pipelines', port: 9090 } },
  };
  assert.deepEqual(unreachableProbes(container, config), [
    'gw startupProbe: /pipelines is not served on the metrics listener',
    'gw readinessProbe: port 8080 is the traffic listener on 127.0.0.1, which the kubelet cannot reach',
    'gw livenessProbe: httpGet.host 127.0.0.1 (the kubelet would probe that address, not the pod)',
  ]);
});
