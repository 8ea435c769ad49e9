import { configAdvice } from '../config/advice.ts';
import { loadConfigOrReport } from './config-file.ts';
import { reportError } from './report.ts';

/**
 * Validates a config file; prints every problem with its path, then warnings for what is valid but probably wrong. Returns the exit code. `offline`: the secret and
 * CA files it names need not exist (a config checked on a laptop or in CI, before it meets its pod).
 */
export function checkConfig(file: string | undefined, env: NodeJS.ProcessEnv, offline: boolean, out: NodeJS.WritableStream, err: NodeJS.WritableStream): number {
  if (!file) {
    return reportError(err, 'check-config needs --config FILE (or WALLAROO_GATEWAY_CONFIG)', 2);
  }
  const config = loadConfigOrReport(file, env, err, { checkFiles: !offline });
  if (!config) return 1;
  const pipelines = `${config.pipelines.length} pipeline${config.pipelines.length === 1 ? '' : 's'}: ${config.pipelines.map((p) => p.name).join(', ')}`;
  out.write(`${file}: valid (${pipelines})${offline ? '; offline: secret and CA files not read' : ''}\n`);
  // Valid but probably wrong (e.g. discovery with only client credentials): said, yet not a failure.
  for (const advice of configAdvice(config)) out.write(`warning: ${advice}\n`);
  return 0;
}
