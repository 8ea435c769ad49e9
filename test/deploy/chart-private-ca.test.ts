import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type Manifest, render, renderedConfig, sidecarSnippet } from '../helpers/kube.ts';

test('a private CA from a ConfigMap (central) or a Secret (sidecar) is mounted where wallaroo.tls.caFile points', async () => {
  const central = await render('ci/central-redis-values.yaml');
  const config = central.find((m) => m.kind === 'ConfigMap')!.data['config.yaml'] as string;
  assert.match(config, /tls:\n {4}caFile: \/etc\/wallaroo-gateway-ca\/ca\.crt\n/);
  const pod = central.find((m) => m.kind === 'Deployment')!.spec.template.spec;
  assert.deepEqual(pod.volumes.find((v: Manifest) => v.name === 'ca'), { name: 'ca', configMap: { name: 'wallaroo-ca-bundle', items: [{ key: 'ca.crt', path: 'ca.crt' }] } });
  assert.deepEqual(pod.containers[0].volumeMounts.find((m: Manifest) => m.name === 'ca'), { name: 'ca', mountPath: '/etc/wallaroo-gateway-ca', readOnly: true });

  assert.match(await renderedConfig('ci/sidecar-values.yaml'), /caFile: \/etc\/wallaroo-gateway-ca\/ca\.pem\n/);
  const sidecar = await sidecarSnippet('ci/sidecar-values.yaml');
  assert.deepEqual(sidecar.volumes.find((v) => v.name === 'wallaroo-gateway-ca'), { name: 'wallaroo-gateway-ca', secret: { secretName: 'wallaroo-ca', items: [{ key: 'ca.pem', path: 'ca.pem' }] } });
  assert.ok(sidecar.initContainers[0]!.volumeMounts.some((m: Manifest) => m.name === 'wallaroo-gateway-ca' && m.mountPath === '/etc/wallaroo-gateway-ca'));

  await assert.rejects(render('', ['--set', 'privateCA.configMap=a', '--set', 'privateCA.secret=b']), /privateCA: set configMap or secret, not both/);
  await assert.rejects(render('', ['--set', 'privateCA.configMap=a', '--set', 'config.wallaroo.tls.caFile=/x.pem']), /set privateCA or config\.wallaroo\.tls\.caFile, not both/);
});
