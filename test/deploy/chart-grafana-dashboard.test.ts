import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { CHART, render } from '../helpers/kube.ts';
import { helm } from '../helpers/helm.ts';

test('grafanaDashboard.enabled: a ConfigMap carrying the grafana_dashboard label and the dashboard JSON; none by default', async () => {
  assert.ok(!(await render('')).some((m) => m.kind === 'ConfigMap' && String(m.metadata.name).endsWith('-dashboard')));
  const dashboards = (await render('', ['--set', 'grafanaDashboard.enabled=true', '--set', 'grafanaDashboard.annotations.grafana_folder=Wallaroo']))
    .filter((m) => m.kind === 'ConfigMap' && String(m.metadata.name).endsWith('-dashboard'));
  assert.equal(dashboards.length, 1);
  const [configMap] = dashboards;
  assert.equal(configMap!.metadata.labels.grafana_dashboard, '1');
  assert.equal(configMap!.metadata.annotations.grafana_folder, 'Wallaroo');
  assert.deepEqual(JSON.parse(configMap!.data['wallaroo-gateway.json'] as string), JSON.parse(readFileSync(`${CHART}/dashboards/wallaroo-gateway.json`, 'utf8')));
  const lint = await helm(['lint', '--strict', CHART, '--set', 'grafanaDashboard.enabled=true']);
  assert.match(lint, /1 chart\(s\) linted, 0 chart\(s\) failed/);
});
