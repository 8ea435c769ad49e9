import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { parseAllDocuments } from 'yaml';
import { checkConfigOffline, type Manifest } from '../helpers/kube.ts';
import { ROOT } from '../helpers/process.ts';

test('examples/sidecar-deployment.yaml: a pasteable native sidecar on 127.0.0.1 with a valid config and a locked-down container', () => {
  const docs = parseAllDocuments(readFileSync(join(ROOT, 'examples/sidecar-deployment.yaml'), 'utf8')).map((d) => d.toJS() as Manifest);
  const config = docs.find((d) => d.kind === 'ConfigMap')!.data['config.yaml'] as string;
  checkConfigOffline(config);
  assert.match(config, /host: 127\.0\.0\.1/);
  assert.doesNotMatch(config, /rateLimit/);
  const pod = docs.find((d) => d.kind === 'Deployment')!.spec.template.spec;
  const gateway = pod.initContainers.find((c: Manifest) => c.name === 'wallaroo-gateway');
  assert.equal(gateway.restartPolicy, 'Always');
  assert.equal(gateway.securityContext.readOnlyRootFilesystem, true);
  assert.deepEqual(gateway.securityContext.capabilities.drop, ['ALL']);
  assert.equal(gateway.readinessProbe.httpGet.path, '/readyz');
  assert.ok(!pod.containers.some((c: Manifest) => c.name === 'wallaroo-gateway'), 'the gateway is not also a regular container');
});
