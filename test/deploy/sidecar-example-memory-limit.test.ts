import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { parseAllDocuments } from 'yaml';
import { configAdvice } from '../../src/config/advice.ts';
import { parseConfigText } from '../../src/config/load.ts';
import type { Manifest } from '../helpers/kube.ts';
import { ROOT } from '../helpers/process.ts';

// The rule the chart follows (docs/SPEC.md): a gateway container's memory limit is server.bufferBudget plus
// headroom for the process itself, 128Mi in sidecar mode. The example is pasted as is, so it follows it too.

const HEADROOM = 128 * 1024 * 1024;

/** A Kubernetes memory quantity in bytes (the suffixes a memory limit uses). */
function quantityBytes(quantity: string): number {
  const match = /^(\d+(?:\.\d+)?)(Ki|Mi|Gi|Ti|k|M|G|T)?$/.exec(quantity);
  assert.ok(match, `a memory quantity: ${quantity}`);
  const unit = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, k: 1e3, M: 1e6, G: 1e9, T: 1e12 }[match[2] ?? ''] ?? 1;
  return Number(match[1]) * unit;
}

test('examples/sidecar-deployment.yaml: the gateway\'s memory limit holds its bufferBudget + 128Mi, and it has an MLOps user', () => {
  const docs = parseAllDocuments(readFileSync(join(ROOT, 'examples/sidecar-deployment.yaml'), 'utf8')).map((d) => d.toJS() as Manifest);
  const pod = docs.find((d) => d.kind === 'Deployment')!.spec.template.spec;
  const gateway = [...(pod.initContainers ?? []), ...pod.containers].find((c: Manifest) => c.name === 'wallaroo-gateway');
  const configMapName = pod.volumes.find((v: Manifest) => v.name === gateway.volumeMounts.find((m: Manifest) => m.mountPath === '/etc/wallaroo-gateway').name).configMap.name;
  const configMap = docs.find((d) => d.kind === 'ConfigMap' && d.metadata.name === configMapName)!;
  assert.deepEqual(gateway.args, ['serve', '--config', '/etc/wallaroo-gateway/config.yaml']);

  const config = parseConfigText(configMap.data['config.yaml'] as string, {}, '/', 'the example\'s config', { checkFiles: false });
  const limit = quantityBytes(gateway.resources.limits.memory as string);
  assert.ok(config.server.bufferBudget + HEADROOM <= limit, `bufferBudget ${config.server.bufferBudget} + 128Mi > limit ${limit}`);
  assert.equal(config.server.bufferBudget, 128 * 1024 * 1024, 'the chart\'s sidecar budget');

  // What docs/first-deployment.md recommends, so check-config does not warn: a user for the MLOps API, its
  // password from the same mounted Secret as the client secret.
  assert.deepEqual(configAdvice(config), []);
  assert.deepEqual(config.wallaroo.mlops?.password, { source: 'file', path: '/var/run/secrets/wallaroo/mlopsPassword' });
  assert.deepEqual(config.wallaroo.auth.clientSecret, { source: 'file', path: '/var/run/secrets/wallaroo/clientSecret' });
  const secretMount = gateway.volumeMounts.find((m: Manifest) => m.mountPath === '/var/run/secrets/wallaroo');
  assert.ok(pod.volumes.find((v: Manifest) => v.name === secretMount.name).secret, 'the secret files come from a mounted Secret');
});
