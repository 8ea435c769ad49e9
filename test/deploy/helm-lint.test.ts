import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { helm } from '../helpers/helm.ts';
import { CHART } from '../helpers/kube.ts';

test('helm lint --strict passes for the default values and every ci/ scenario', async () => {
  for (const values of ['', 'ci/default-values.yaml', 'ci/central-redis-values.yaml', 'ci/sidecar-values.yaml', 'ci/central-callers-values.yaml', 'ci/central-mtls-values.yaml']) {
    const output = await helm(['lint', '--strict', CHART, ...(values ? ['-f', join(CHART, values)] : [])]);
    assert.match(output, /1 chart\(s\) linted, 0 chart\(s\) failed/, values || 'defaults');
  }
});
