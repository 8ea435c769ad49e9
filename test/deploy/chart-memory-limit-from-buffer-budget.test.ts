import assert from 'node:assert/strict';
import { test } from 'node:test';
import { render, sidecarSnippet } from '../helpers/kube.ts';

// Issue 15: the chart's memory limit follows server.bufferBudget (the bytes of bodies and answers the gateway may
// hold), plus a fixed headroom for the process itself, so raising the budget cannot push the pod into OOM kills.

async function centralMemoryLimit(extra: string[] = []): Promise<string> {
  const deployment = (await render('ci/default-values.yaml', extra)).find((m) => m.kind === 'Deployment')!;
  return deployment.spec.template.spec.containers[0].resources.limits.memory as string;
}

test('central mode: the memory limit is bufferBudget + 256Mi unless set', async () => {
  assert.equal(await centralMemoryLimit(), '512Mi', 'the gateway default 256MiB + 256Mi');
  assert.equal(await centralMemoryLimit(['--set', 'config.server.bufferBudget=1GiB']), '1280Mi');
  assert.equal(await centralMemoryLimit(['--set', 'config.server.bufferBudget=100MB']), '352Mi', '100 MB is 95.4 MiB, rounded up');
  assert.equal(await centralMemoryLimit(['--set', 'config.server.bufferBudget=64MiB', '--set', 'memoryHeadroomMiB=300']), '364Mi');
  assert.equal(await centralMemoryLimit(['--set', 'resources.limits.memory=2Gi']), '2Gi', 'an explicit limit wins');
});

test('sidecar mode: the snippet\'s limit is the sidecar budget (128MiB) + 128Mi', async () => {
  const { initContainers } = await sidecarSnippet('ci/sidecar-values.yaml');
  assert.equal(initContainers[0]!.resources.limits.memory, '256Mi');
});
