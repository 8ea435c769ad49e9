import { loadConfigOrReport } from './config-file.ts';

/** Validates a config file; prints every problem with its path. Returns the exit code. */
export function checkConfig(file: string | undefined, env: NodeJS.ProcessEnv, out: NodeJS.WritableStream, err: NodeJS.WritableStream): number {
  if (!file) {
    err.write('check-config needs --config FILE (or WALLAROO_GATEWAY_CONFIG)\n');
    return 2;
  }
  const config = loadConfigOrReport(file, env, err);
  if (!config) return 1;
  out.write(`${file}: valid (${config.pipelines.length} pipeline${config.pipelines.length === 1 ? '' : 's'}: ${config.pipelines.map((p) => p.name).join(', ')})\n`);
  return 0;
}
