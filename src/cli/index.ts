import { parseCommandArgs, USAGE } from './args.ts';

// Each command's module is loaded only when that command runs: `help` or `convert` need not load the server.

/** Dispatches `wallaroo-gateway <command>`; returns an exit code, or null for a long-running server. */
export async function runCli(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<number | null> {
  const [command, ...rest] = argv;
  if (command === undefined || command === 'help' || command === '--help' || command === '-h') {
    process.stdout.write(USAGE);
    return 0;
  }
  if (command.startsWith('-')) {
    process.stderr.write(`wallaroo-gateway: a command comes first (got ${command}); e.g. wallaroo-gateway serve --config FILE\n\n${USAGE}`);
    return 2;
  }
  let args: ReturnType<typeof parseCommandArgs>;
  try {
    args = parseCommandArgs(rest);
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
    case 'serve':
    case 'demo':
      if (command === 'serve' && !configFile) {
        process.stderr.write('wallaroo-gateway: serve needs --config FILE (or WALLAROO_GATEWAY_CONFIG); for the demo with the embedded simulator: wallaroo-gateway demo\n');
        return 2;
      }
      try {
        const { demoCommand, serveCommand } = await import('./serve.ts');
        if (command === 'serve') await serveCommand(configFile!, values.simulate ?? false, env);
        else await demoCommand(env, process.stdout);
        return null;
      } catch (error) {
        // One clear message, never a stack trace: a start failure is the operator's to fix, not a bug report.
        const { startFailureMessage } = await import('./start-failure.ts');
        process.stderr.write(`${startFailureMessage(error)}\n`);
        return 1;
      }
    case 'check-config':
      return (await import('./check-config.ts')).checkConfig(configFile, env, values.offline ?? false, process.stdout, process.stderr);
    case 'spec':
      return (await import('./spec.ts')).specCommand(positionals[0], configFile, env, process.stdout, process.stderr);
    case 'convert':
      return (await import('./convert.ts')).convertCommand(positionals, values.to, values.schema, { stdin: process.stdin, out: process.stdout, err: process.stderr });
    default:
      process.stderr.write(`wallaroo-gateway: unknown command ${command}\n\n${USAGE}`);
      return 2;
  }
}
