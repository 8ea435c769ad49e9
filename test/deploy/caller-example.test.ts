import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { parseAllDocuments } from 'yaml';
import type { Manifest } from '../helpers/kube.ts';
import { ROOT } from '../helpers/process.ts';

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
