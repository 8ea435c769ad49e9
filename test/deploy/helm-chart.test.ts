import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type TestContext, test } from 'node:test';
import { promisify } from 'node:util';
import { parseAllDocuments } from 'yaml';
import { ROOT, runCli } from '../helpers/process.ts';
import { useTempDir } from '../helpers/temp.ts';

const run = promisify(execFile);
const HELM = join(ROOT, '../shared/tools/helm');
const CHART = join(ROOT, 'helm/wallaroo-gateway');
const SCENARIOS = ['', 'ci/default-values.yaml', 'ci/central-redis-values.yaml', 'ci/sidecar-values.yaml', 'ci/central-callers-values.yaml', 'ci/central-mtls-values.yaml'];

type Manifest = Record<string, any>;

async function helm(args: string[]): Promise<string> {
  return (await run(HELM, args, { cwd: ROOT, timeout: 120_000, maxBuffer: 16 * 1024 * 1024 })).stdout;
}

async function render(values: string): Promise<Manifest[]> {
  const text = await helm(['template', 'gw', CHART, ...(values ? ['-f', join(CHART, values)] : [])]);
  return parseAllDocuments(text).map((d) => d.toJS() as Manifest).filter(Boolean);
}

/** The gateway config from a rendered ConfigMap, checked with the real CLI (secret files mapped to temp files). */
async function checkRenderedConfig(t: TestContext, configYaml: string): Promise<void> {
  const dir = useTempDir(t, 'gw-helm');
  // Every mounted file (the Secret's keys, TLS files, the service-account token and CA) becomes a temp file.
  const mapped = configYaml.replace(/\/var\/run\/secrets\/[\w./-]+/g, (path: string) => {
    const file = join(dir, path.replace(/\W/g, '_'));
    writeFileSync(file, `placeholder-${path}`);
    return file;
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

test('the Redis scenario wires shared rate limits, HPA, ServiceMonitor on the named metrics port, and a NetworkPolicy', async () => {
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
});

test('sidecar mode renders only the config (listening on 127.0.0.1) and uses the existing Secret', async (t) => {
  const manifests = await render('ci/sidecar-values.yaml');
  assert.deepEqual(manifests.map((m) => m.kind), ['ConfigMap']);
  const config = manifests[0]!.data['config.yaml'] as string;
  assert.match(config, /host: 127\.0\.0\.1/);
  await checkRenderedConfig(t, config);
});

test('examples/sidecar-deployment.yaml: a pasteable sidecar on 127.0.0.1 with a valid config and a locked-down container', async (t) => {
  const docs = parseAllDocuments(readFileSync(join(ROOT, 'examples/sidecar-deployment.yaml'), 'utf8')).map((d) => d.toJS() as Manifest);
  const configMap = docs.find((d) => d.kind === 'ConfigMap')!;
  await checkRenderedConfig(t, configMap.data['config.yaml']);
  assert.match(configMap.data['config.yaml'], /host: 127\.0\.0\.1/);
  const gateway = docs.find((d) => d.kind === 'Deployment')!.spec.template.spec.containers.find((c: Manifest) => c.name === 'wallaroo-gateway');
  assert.equal(gateway.securityContext.readOnlyRootFilesystem, true);
  assert.deepEqual(gateway.securityContext.capabilities.drop, ['ALL']);
  assert.equal(gateway.readinessProbe.httpGet.path, '/readyz');
});

test('values.schema.json refuses a secret placed in config instead of the Secret', async () => {
  await assert.rejects(helm(['template', 'gw', CHART, '--set', 'config.wallaroo.auth.clientSecret=oops']), /values don't meet the specifications of the schema|clientSecret/);
});

test('caller identity: kubernetes mode mounts only a projected token and the cluster CA to read the API server keys; mtls serves HTTPS from the TLS Secret', async (t) => {
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
  await checkRenderedConfig(t, callersConfig);

  const mtls = await render('ci/central-mtls-values.yaml');
  const container = mtls.find((m) => m.kind === 'Deployment')!.spec.template.spec.containers[0];
  for (const probe of ['livenessProbe', 'readinessProbe', 'startupProbe']) assert.equal(container[probe].httpGet.scheme, 'HTTPS', probe);
  const tlsMount = container.volumeMounts.find((m: Manifest) => m.name === 'tls');
  assert.equal(tlsMount.mountPath, '/var/run/secrets/wallaroo-gateway/tls');
  assert.equal(tlsMount.subPath, undefined, 'a directory mount, so a renewed certificate reaches the pod');
  const mtlsConfig = mtls.find((m) => m.kind === 'ConfigMap')!.data['config.yaml'] as string;
  assert.match(mtlsConfig, /caFile: \/var\/run\/secrets\/wallaroo-gateway\/tls\/ca\.crt/);
  await checkRenderedConfig(t, mtlsConfig);
});

test('examples/caller-with-service-account-token.yaml: the caller mounts a projected token for the gateway audience and sends it', () => {
  const docs = parseAllDocuments(readFileSync(join(ROOT, 'examples/caller-with-service-account-token.yaml'), 'utf8')).map((d) => d.toJS() as Manifest);
  const pod = docs.find((d) => d.kind === 'Deployment')!.spec.template.spec;
  const source = pod.volumes.find((v: Manifest) => v.name === 'wallaroo-gateway-token').projected.sources[0].serviceAccountToken;
  assert.equal(source.audience, 'wallaroo-gateway', 'the default callers.kubernetes.audience');
  assert.ok(source.expirationSeconds >= 600, 'Kubernetes refuses shorter projected tokens');
  const app = pod.containers[0];
  assert.equal(app.volumeMounts[0].mountPath, '/var/run/secrets/wallaroo-gateway');
  assert.match(app.args[0], /Authorization: Bearer \$\(cat \/var\/run\/secrets\/wallaroo-gateway\/token\)/);
});
