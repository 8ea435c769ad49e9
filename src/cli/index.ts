import { checkConfig } from './check-config.ts';
import { convertCommand } from './convert.ts';
import { parseCommandArgs, USAGE } from './args.ts';
import { serveCommand } from './serve.ts';
import { specCommand } from './spec.ts';
import { ConfigError } from '../config/load.ts';
import { DEFAULT_WALLAROO_VERSION, isWallarooVersion, WALLAROO_VERSIONS } from '../simulator/versions/names.ts';

/** Dispatches `wallaroo-gateway <command>`; returns an exit code, or null for a long-running server. */
export async function runCli(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<number | null> {
  const [first, ...rest] = argv;
  const command = first === undefined || first.startsWith('-') ? 'serve' : first;
  let args: ReturnType<typeof parseCommandArgs>;
  try {
    args = parseCommandArgs(first === undefined || first.startsWith('-') ? argv : rest);
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n\n${USAGE}`);
    return 2;
  }
  const { values, positionals } = args;
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const configFile = values.config ?? env.WALLAROO_GATEWAY_CONFIG;
  switch (command) {
    case 'serve': {
      const version = values['simulate-version'];
      if (version !== undefined && !isWallarooVersion(version)) {
        process.stderr.write(`--simulate-version ${version}: not a modelled Wallaroo version (${WALLAROO_VERSIONS.join(', ')})\n\n${USAGE}`);
        return 2;
      }
      const simulate = values.simulate || version !== undefined ? (version ?? DEFAULT_WALLAROO_VERSION) : null;
      try {
        await serveCommand(configFile, simulate, env, process.stdout);
        return null;
      } catch (error) {
        if (error instanceof ConfigError) {
          process.stderr.write(`${error.message}\n`);
          return 1;
        }
        throw error;
      }
    }
    case 'check-config':
      return checkConfig(configFile, env, process.stdout, process.stderr);
    case 'spec':
      return specCommand(positionals[0], configFile, env, process.stdout, process.stderr);
    case 'convert':
      return convertCommand(positionals, values.to, values.schema, process.stdout, process.stderr);
    default:
      process.stderr.write(`unknown command ${command}\n\n${USAGE}`);
      return 2;
  }
}
