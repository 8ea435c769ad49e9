import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type Manifest, render } from '../helpers/kube.ts';

test('the Redis scenario wires shared rate limits, HPA, ServiceMonitor, and a NetworkPolicy admitting callers and the scraper separately', async () => {
  const manifests = await render('ci/central-redis-values.yaml');
  const kinds = manifests.map((m) => m.kind);
  for (const kind of ['HorizontalPodAutoscaler', 'ServiceMonitor', 'NetworkPolicy', 'Secret']) assert.ok(kinds.includes(kind), kind);
  const config = manifests.find((m) => m.kind === 'ConfigMap')!.data['config.yaml'] as string;
  assert.match(config, /store: redis/);
  assert.match(config, /redisUrlFile: \/var\/run\/secrets\/wallaroo\/redisUrl/);
  const secret = manifests.find((m) => m.kind === 'Secret')!;
  assert.deepEqual(Object.keys(secret.data).sort(), ['clientSecret', 'redisUrl']);
  assert.equal(manifests.find((m) => m.kind === 'ServiceMonitor')!.spec.endpoints[0].port, 'metrics');
  const deployment = manifests.find((m) => m.kind === 'Deployment')!;
  assert.deepEqual(deployment.spec.template.spec.containers[0].ports.map((p: Manifest) => p.name), ['http', 'metrics']);
  assert.equal(deployment.spec.replicas, undefined, 'the HPA owns the replica count');

  // Callers reach the traffic port only; the scraper (networkPolicy.metricsFrom) the metrics port only.
  assert.deepEqual(manifests.find((m) => m.kind === 'NetworkPolicy')!.spec.ingress, [
    { ports: [{ port: 'http' }], from: [{ namespaceSelector: { matchLabels: { 'wallaroo-gateway/client': 'true' } } }] },
    {
      ports: [{ port: 'metrics' }],
      from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' } }, podSelector: { matchLabels: { 'app.kubernetes.io/name': 'prometheus' } } }],
    },
  ]);
  // The chart's default scraper selector is Prometheus's usual namespace; an empty list admits no scraper.
  const defaults = await render('', ['--set', 'networkPolicy.enabled=true']);
  assert.deepEqual(defaults.find((m) => m.kind === 'NetworkPolicy')!.spec.ingress[1], {
    ports: [{ port: 'metrics' }],
    from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' } } }],
  });
  const none = await render('', ['--set', 'networkPolicy.enabled=true', '--set', 'networkPolicy.metricsFrom=null']);
  assert.equal(none.find((m) => m.kind === 'NetworkPolicy')!.spec.ingress.length, 1);
});
