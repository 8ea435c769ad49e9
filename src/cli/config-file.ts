import { ConfigError, type GatewayConfig, loadConfigFile } from '../config/load.ts';

/** Loads a config for a CLI command; every problem goes to `err` and the result is null (the command exits 1). */
export function loadConfigOrReport(file: string, env: NodeJS.ProcessEnv, err: NodeJS.WritableStream): GatewayConfig | null {
  try {
    return loadConfigFile(file, env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    err.write(`${error.message}\n`);
    return null;
  }
}
