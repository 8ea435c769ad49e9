import { DEFAULT_WALLAROO_VERSION, isWallarooVersion, WALLAROO_VERSIONS } from '../simulator/versions/names.ts';
import { parseCommandArgs, USAGE, UsageError } from './args.ts';
import { reportError, reportUsageError } from './report.ts';

// Each command's module is loaded only when that command runs: `help` or `convert` need not load the server.

/** Dispatches `wallaroo-gateway <command>`; returns an exit code, or null for a long-running server. */
export async function runCli(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<number | null> {
  const [command, ...rest] = argv;
  if (command === undefined || command === 'help' || command === '--help' || command === '-h') {
    process.stdout.write(USAGE);
    return 0;
  }
  if (command.startsWith('-')) return reportUsageError(process.stderr, `a command comes first (got ${command}); e.g. wallaroo-gateway serve --config FILE`);
  let args: ReturnType<typeof parseCommandArgs>;
  try {
    args = parseCommandArgs(rest);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    return reportUsageError(process.stderr, error.message);
  }
  const { values, positionals } = args;
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const configFile = values.config ?? env.WALLAROO_GATEWAY_CONFIG;
  switch (command) {
    case 'serve':
    case 'demo': {
      const version = values['simulate-version'];
      if (version !== undefined && !isWallarooVersion(version)) {
        return reportUsageError(process.stderr, `--simulate-version ${version}: not a modelled Wallaroo version (${WALLAROO_VERSIONS.join(', ')})`);
      }
      const simulate = values.simulate || version !== undefined ? (version ?? DEFAULT_WALLAROO_VERSION) : null;
      if (command === 'serve' && !configFile) {
        return reportError(process.stderr, 'serve needs --config FILE (or WALLAROO_GATEWAY_CONFIG); for the demo with the embedded simulator: wallaroo-gateway demo', 2);
      }
      try {
        const { demoCommand, serveCommand } = await import('./serve.ts');
        if (command === 'serve') await serveCommand(configFile!, simulate, env);
        else await demoCommand(simulate, env, process.stdout);
        return null;
      } catch (error) {
        // One clear message, never a stack trace: a start failure is the operator's to fix, not a bug report.
        const { startFailureMessage } = await import('./start-failure.ts');
        process.stderr.write(`${startFailureMessage(error)}\n`);
        return 1;
      }
    }
    case 'check-config':
      return (await import('./check-config.ts')).checkConfig(configFile, env, values.offline ?? false, process.stdout, process.stderr);
    case 'spec':
      return (await import('./spec.ts')).specCommand(positionals[0], configFile, env, process.stdout, process.stderr);
    case 'convert':
      return (await import('./convert.ts')).convertCommand(positionals, values.to, values.schema, { stdin: process.stdin, out: process.stdout, err: process.stderr });
    default:
      return reportUsageError(process.stderr, `unknown command ${command}`);
  }
}
