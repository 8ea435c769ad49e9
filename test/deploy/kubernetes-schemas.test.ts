import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { parseAllDocuments } from 'yaml';
import { type Manifest, render, sidecarSnippet, validateKubernetes } from '../helpers/kube.ts';
import { ROOT } from '../helpers/process.ts';

test('every manifest the chart renders (each scenario) is valid against the Kubernetes and Prometheus Operator schemas', async () => {
  let checked = 0;
  for (const values of ['', 'ci/default-values.yaml', 'ci/central-redis-values.yaml', 'ci/sidecar-values.yaml', 'ci/central-callers-values.yaml', 'ci/central-mtls-values.yaml']) {
    for (const manifest of await render(values)) {
      await validateKubernetes(manifest);
      checked++;
    }
  }
  assert.ok(checked >= 15, `${checked} manifests`);
});

test("the sidecar snippet from the NOTES and examples/sidecar-deployment.yaml are valid pod specs", async () => {
  const { initContainers, volumes } = await sidecarSnippet('ci/sidecar-values.yaml');
  await validateKubernetes({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'app-with-gateway' },
    spec: { initContainers, volumes, containers: [{ name: 'app', image: 'registry.example.com/app:1' }] },
  });
  for (const doc of parseAllDocuments(readFileSync(join(ROOT, 'examples/sidecar-deployment.yaml'), 'utf8'))) await validateKubernetes(doc.toJS() as Manifest);
});

test('the validation refuses a broken manifest (so the checks above can fail)', async () => {
  const [deployment] = (await render('')).filter((m) => m.kind === 'Deployment');
  deployment!.spec.template.spec.containers[0].readinessProbe.httpGet = { path: '/readyz' };
  await assert.rejects(validateKubernetes(deployment!), /Deployment gw-wallaroo-gateway: .*httpGet must have required property port/);
  await assert.rejects(validateKubernetes({ apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'w' } }), /no schema known for apiVersion example\.com\/v1/);
});
