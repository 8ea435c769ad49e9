import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { CHART_SCHEMA_FILE, chartValuesSchemaText } from '../../scripts/chart-schema.ts';
import { render } from '../helpers/kube.ts';
import { useTempDir } from '../helpers/temp.ts';

test('values.schema.json is generated from the gateway config schema (npm run chart:schema) and committed unchanged', () => {
  assert.equal(readFileSync(CHART_SCHEMA_FILE, 'utf8'), chartValuesSchemaText(), 'run npm run chart:schema and commit the result');
});

test('helm template refuses what the gateway would refuse at start: a typo, a bad value, a secret inline', async (t) => {
  const dir = useTempDir(t, 'gw-chart-schema');
  const typo = join(dir, 'typo.yaml');
  writeFileSync(typo, 'config:\n  pipelines:\n    - { name: ccfraud, workspce: urlworkspace }\n');
  // Helm 4 (the packaged one) words it "at '/config/...': ..."; a system Helm 3 words it differently, so match
  // the refusal and the offending key, not the wording.
  const refused = (...parts: RegExp[]) => (error: Error) => /values don't meet the specifications of the schema/.test(error.message) && parts.every((part) => part.test(error.message));
  await assert.rejects(render('', ['-f', typo]), refused(/pipelines/, /workspce/, /not allowed/i));
  await assert.rejects(render('', ['--set', 'config.server.port=99999']), refused(/port/, /65,?535/));
  await assert.rejects(render('', ['--set', 'config.pipelines[0].upstreamFormat=csv', '--set', 'config.pipelines[0].name=p']), refused(/upstreamFormat/));
  await assert.rejects(render('', ['--set', 'config.wallaroo.auth.clientSecret=oops']), refused(/auth/, /clientSecret/, /not allowed/i));
  // Keys the gateway fills in with defaults are optional, so a minimal config passes.
  const minimal = join(dir, 'minimal.yaml');
  writeFileSync(minimal, 'secret: { clientSecret: x }\nconfig:\n  pipelines:\n    - { name: churn, workspace: 12 }\n');
  assert.ok((await render('', ['-f', minimal])).some((m) => m.kind === 'Deployment'));
});
