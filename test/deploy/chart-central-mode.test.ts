import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkConfigOffline, type Manifest, render, renderedConfig } from '../helpers/kube.ts';

test('central mode: secure pod, probes on /healthz and /readyz, checksum rollouts, secret as a directory, valid config', async () => {
  for (const values of ['', 'ci/central-redis-values.yaml']) {
    const manifests = await render(values);
    const deployment = manifests.find((m) => m.kind === 'Deployment')!;
    const pod = deployment.spec.template;
    const container = pod.spec.containers[0];
    assert.equal(pod.spec.securityContext.runAsNonRoot, true);
    assert.equal(pod.spec.securityContext.seccompProfile.type, 'RuntimeDefault');
    assert.equal(pod.spec.automountServiceAccountToken, false);
    assert.deepEqual(container.securityContext, { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } });
    assert.equal(container.livenessProbe.httpGet.path, '/healthz');
    assert.equal(container.readinessProbe.httpGet.path, '/readyz');
    assert.match(pod.metadata.annotations['checksum/config'], /^[0-9a-f]{64}$/);
    assert.match(pod.metadata.annotations['checksum/secret'], /^[0-9a-f]{64}$/);
    const secretMount = container.volumeMounts.find((m: Manifest) => m.name === 'secret');
    assert.equal(secretMount.mountPath, '/var/run/secrets/wallaroo');
    assert.equal(secretMount.subPath, undefined, 'a directory mount, so rotation reaches the pod');
    assert.ok(pod.spec.terminationGracePeriodSeconds * 1000 > 5_000 + 25_000, 'grace covers preStop + drain');
    assert.ok(container.resources.requests && container.resources.limits);
    assert.ok(manifests.some((m) => m.kind === 'Service'));
    assert.ok(manifests.some((m) => m.kind === 'PodDisruptionBudget'));
    checkConfigOffline(manifests.find((m) => m.kind === 'ConfigMap')!.data['config.yaml']);
  }
});

test('central mode listens on 0.0.0.0 with a per-caller default rate limit (modeDefaults.central); modeDefaults can drop it', async () => {
  const config = await renderedConfig('');
  assert.match(config, /rateLimit:\n {2}default:\n {4}max: 100\n {4}timeWindow: 1s\n/);
  assert.match(config, /server:\n(?: {2}\w+: .*\n)* {2}host: 0\.0\.0\.0\n/);
  assert.doesNotMatch(await renderedConfig('', ['--set', 'modeDefaults.central.rateLimit.default=null']), /max: 100/);
});
