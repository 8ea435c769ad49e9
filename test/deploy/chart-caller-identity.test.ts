import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkConfigOffline, type Manifest, render } from '../helpers/kube.ts';

test('caller identity: kubernetes mode mounts only a projected token and the cluster CA to read the API server keys; mtls serves HTTPS from the TLS Secret', async () => {
  const callers = await render('ci/central-callers-values.yaml');
  const pod = callers.find((m) => m.kind === 'Deployment')!.spec.template.spec;
  assert.equal(pod.automountServiceAccountToken, false, 'no automounted token; the projected one below is the only one');
  const projected = pod.volumes.find((v: Manifest) => v.name === 'api-server-keys').projected.sources;
  assert.deepEqual(projected, [
    { serviceAccountToken: { path: 'token', expirationSeconds: 3600 } },
    { configMap: { name: 'kube-root-ca.crt', items: [{ key: 'ca.crt', path: 'ca.crt' }] } },
  ]);
  assert.equal(pod.containers[0].volumeMounts.find((m: Manifest) => m.name === 'api-server-keys').mountPath, '/var/run/secrets/kubernetes.io/serviceaccount');
  const callersConfig = callers.find((m) => m.kind === 'ConfigMap')!.data['config.yaml'] as string;
  assert.match(callersConfig, /jwksUrl: https:\/\/kubernetes\.default\.svc\/openid\/v1\/jwks/);
  assert.match(callersConfig, /bearerTokenFile: \/var\/run\/secrets\/kubernetes\.io\/serviceaccount\/token/);
  const egressPorts = callers.find((m) => m.kind === 'NetworkPolicy')!.spec.egress.flatMap((rule: Manifest) => rule.ports.map((p: Manifest) => p.port));
  assert.ok(egressPorts.includes(6443), 'the API server is reachable for its keys');
  checkConfigOffline(callersConfig);

  const mtls = await render('ci/central-mtls-values.yaml');
  const container = mtls.find((m) => m.kind === 'Deployment')!.spec.template.spec.containers[0];
  // The probes target the traffic port, which serves HTTPS here.
  for (const probe of ['livenessProbe', 'readinessProbe', 'startupProbe']) assert.equal(container[probe].httpGet.scheme, 'HTTPS', probe);
  const tlsMount = container.volumeMounts.find((m: Manifest) => m.name === 'tls');
  assert.equal(tlsMount.mountPath, '/var/run/secrets/wallaroo-gateway/tls');
  assert.equal(tlsMount.subPath, undefined, 'a directory mount, so a renewed certificate reaches the pod');
  const mtlsConfig = mtls.find((m) => m.kind === 'ConfigMap')!.data['config.yaml'] as string;
  assert.match(mtlsConfig, /caFile: \/var\/run\/secrets\/wallaroo-gateway\/tls\/ca\.crt/);
  checkConfigOffline(mtlsConfig);
});
