import { ConfigError, type GatewayConfig, loadConfigFile, type ParseOptions } from '../config/load.ts';

/**
 * A config that cannot be used, as every command prints it: `wallaroo-gateway: GW_CONFIG_INVALID: invalid
 * configuration in FILE (N problems):` then one line per problem with its path; a config file that cannot be read at
 * all is one line of its own (`wallaroo-gateway: cannot read config file F (ENOENT)`).
 */
export function configErrorMessage(error: ConfigError): string {
  const [only] = error.problems;
  if (error.problems.length === 1 && only && only.path === '' && only.message.startsWith('cannot read config file ')) return `wallaroo-gateway: ${only.message}`;
  return `wallaroo-gateway: ${error.code}: ${error.message}`;
}

/** Loads a config for a CLI command; every problem goes to `err` and the result is null (the command exits 1). */
export function loadConfigOrReport(file: string, env: NodeJS.ProcessEnv, err: NodeJS.WritableStream, options: ParseOptions = {}): GatewayConfig | null {
  try {
    return loadConfigFile(file, env, options);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    err.write(`${configErrorMessage(error)}\n`);
    return null;
  }
}
