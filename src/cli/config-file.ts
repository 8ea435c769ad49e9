import { ConfigError, type GatewayConfig, loadConfigFile, type ParseOptions } from '../config/load.ts';

/** Loads a config for a CLI command; every problem goes to `err` and the result is null (the command exits 1). */
export function loadConfigOrReport(file: string, env: NodeJS.ProcessEnv, err: NodeJS.WritableStream, options: ParseOptions = {}): GatewayConfig | null {
  try {
    return loadConfigFile(file, env, options);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    err.write(`${error.message}\n`);
    return null;
  }
}
