import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type TestContext, test } from 'node:test';
import { parseAllDocuments } from 'yaml';
import { helm } from '../helpers/helm.ts';
import { CHART, type Manifest, render, sidecarSnippet } from '../helpers/kube.ts';
import { ROOT, runCli } from '../helpers/process.ts';
import { useTempDir } from '../helpers/temp.ts';

const SCENARIOS = ['', 'ci/default-values.yaml', 'ci/central-redis-values.yaml', 'ci/sidecar-values.yaml'];

/** The gateway config from a rendered ConfigMap, checked with the real CLI (secret and CA files mapped to temp files). */
async function checkRenderedConfig(t: TestContext, configYaml: string): Promise<void> {
  const dir = useTempDir(t, 'gw-helm');
  const mapped = configYaml.replace(/\/(?:var\/run\/secrets\/wallaroo|etc\/wallaroo-gateway-ca)\/([\w.]+)/g, (_, key: string) => {
    writeFileSync(join(dir, key), `placeholder-${key}`);
    return join(dir, key);
  });
  writeFileSync(join(dir, 'config.yaml'), mapped);
  const result = await runCli(['check-config', '--config', join(dir, 'config.yaml')]);
  assert.equal(result.code, 0, `${result.stderr}\n${configYaml}`);
}

test('helm lint --strict passes for the default values and every ci/ scenario', async () => {
  for (const values of SCENARIOS) {
    const output = await helm(['lint', '--strict', CHART, ...(values ? ['-f', join(CHART, values)] : [])]);
    assert.match(output, /1 chart\(s\) linted, 0 chart\(s\) failed/, values || 'defaults');
  }
});

test('central mode: secure pod, probes on /healthz and /readyz, checksum rollouts, secret as a directory, valid config', async (t) => {
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
    await checkRenderedConfig(t, manifests.find((m) => m.kind === 'ConfigMap')!.data['config.yaml']);
  }
});

test('central mode keeps its per-caller default rate limit; modeDefaults can drop it', async () => {
  const config = (manifests: Manifest[]) => manifests.find((m) => m.kind === 'ConfigMap')!.data['config.yaml'] as string;
  assert.match(config(await render('')), /rateLimit:\n {2}default:\n {4}max: 100\n {4}timeWindow: 1s\n/);
  assert.match(config(await render('')), /server:\n(?: {2}\w+: .*\n)* {2}host: 0\.0\.0\.0\n/);
  assert.doesNotMatch(config(await render('', ['--set', 'modeDefaults.central.rateLimit.default=null'])), /max: 100/);
});

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
  const ports = manifests.find((m) => m.kind === 'Deployment')!.spec.template.spec.containers[0].ports.map((p: Manifest) => p.name);
  assert.deepEqual(ports, ['http', 'metrics']);
  assert.equal(manifests.find((m) => m.kind === 'Deployment')!.spec.replicas, undefined, 'the HPA owns the replica count');

  const policy = manifests.find((m) => m.kind === 'NetworkPolicy')!;
  assert.deepEqual(policy.spec.ingress, [
    { ports: [{ port: 'http' }], from: [{ namespaceSelector: { matchLabels: { 'wallaroo-gateway/client': 'true' } } }] },
    {
      ports: [{ port: 'metrics' }],
      from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' } }, podSelector: { matchLabels: { 'app.kubernetes.io/name': 'prometheus' } } }],
    },
  ]);
});

test('a private CA from a ConfigMap (central) or a Secret (sidecar) is mounted where wallaroo.tls.caFile points', async () => {
  const central = await render('ci/central-redis-values.yaml');
  const config = central.find((m) => m.kind === 'ConfigMap')!.data['config.yaml'] as string;
  assert.match(config, /tls:\n {4}caFile: \/etc\/wallaroo-gateway-ca\/ca\.crt\n/);
  const pod = central.find((m) => m.kind === 'Deployment')!.spec.template.spec;
  assert.deepEqual(pod.volumes.find((v: Manifest) => v.name === 'ca'), { name: 'ca', configMap: { name: 'wallaroo-ca-bundle', items: [{ key: 'ca.crt', path: 'ca.crt' }] } });
  assert.deepEqual(pod.containers[0].volumeMounts.find((m: Manifest) => m.name === 'ca'), { name: 'ca', mountPath: '/etc/wallaroo-gateway-ca', readOnly: true });

  const sidecar = await sidecarSnippet('ci/sidecar-values.yaml');
  assert.match((await render('ci/sidecar-values.yaml'))[0]!.data['config.yaml'], /caFile: \/etc\/wallaroo-gateway-ca\/ca\.pem\n/);
  assert.deepEqual(sidecar.volumes.find((v) => v.name === 'wallaroo-gateway-ca'), { name: 'wallaroo-gateway-ca', secret: { secretName: 'wallaroo-ca', items: [{ key: 'ca.pem', path: 'ca.pem' }] } });
  assert.ok(sidecar.initContainers[0]!.volumeMounts.some((m: Manifest) => m.name === 'wallaroo-gateway-ca' && m.mountPath === '/etc/wallaroo-gateway-ca'));

  await assert.rejects(render('', ['--set', 'privateCA.configMap=a', '--set', 'privateCA.secret=b']), /privateCA: set configMap or secret, not both/);
  await assert.rejects(render('', ['--set', 'privateCA.configMap=a', '--set', 'config.wallaroo.tls.caFile=/x.pem']), /set privateCA or config\.wallaroo\.tls\.caFile, not both/);
});

test('sidecar mode renders only the config (traffic on 127.0.0.1, no per-caller rate limit) and a native-sidecar snippet in its NOTES', async (t) => {
  const manifests = await render('ci/sidecar-values.yaml');
  assert.deepEqual(manifests.map((m) => m.kind), ['ConfigMap']);
  const config = manifests[0]!.data['config.yaml'] as string;
  assert.match(config, /host: 127\.0\.0\.1/);
  assert.doesNotMatch(config, /default:/, 'no central 100 req/s for the whole pod');
  assert.match(config, /metrics:\n {2}port: 9090\n/);
  await checkRenderedConfig(t, config);

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

test('examples/sidecar-deployment.yaml: a pasteable native sidecar on 127.0.0.1 with a valid config and a locked-down container', async (t) => {
  const docs = parseAllDocuments(readFileSync(join(ROOT, 'examples/sidecar-deployment.yaml'), 'utf8')).map((d) => d.toJS() as Manifest);
  const configMap = docs.find((d) => d.kind === 'ConfigMap')!;
  await checkRenderedConfig(t, configMap.data['config.yaml']);
  assert.match(configMap.data['config.yaml'], /host: 127\.0\.0\.1/);
  assert.doesNotMatch(configMap.data['config.yaml'], /rateLimit/);
  const pod = docs.find((d) => d.kind === 'Deployment')!.spec.template.spec;
  const gateway = pod.initContainers.find((c: Manifest) => c.name === 'wallaroo-gateway');
  assert.equal(gateway.restartPolicy, 'Always');
  assert.equal(gateway.securityContext.readOnlyRootFilesystem, true);
  assert.deepEqual(gateway.securityContext.capabilities.drop, ['ALL']);
  assert.equal(gateway.readinessProbe.httpGet.path, '/readyz');
  assert.ok(!pod.containers.some((c: Manifest) => c.name === 'wallaroo-gateway'), 'the gateway is not also a regular container');
});
