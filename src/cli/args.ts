import { parseArgs } from 'node:util';

const OPTIONS = {
  config: { type: 'string', short: 'c' },
  simulate: { type: 'boolean', default: false },
  'simulate-version': { type: 'string' },
  offline: { type: 'boolean', default: false },
  to: { type: 'string' },
  schema: { type: 'string' },
  help: { type: 'boolean', short: 'h', default: false },
} as const;

/** An argv the CLI cannot take; its message is one clause (the caller adds the program name and where to look). */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** The long name of an option as typed (`-c` is `--config`), for messages. */
function longName(name: string): string {
  const long = Object.entries(OPTIONS).find(([, option]) => 'short' in option && option.short === name)?.[0];
  return `--${long ?? name}`;
}

/**
 * Shared argv parsing for every command: `--config FILE`, `--simulate`, `--simulate-version`, `--offline`, `--to`,
 * `--schema`, `--help`. An unknown option, a missing or unwanted value is a UsageError saying which option, in our
 * words rather than parseArgs' (whose messages suggest `--` tricks and quote unevenly).
 */
export function parseCommandArgs(argv: string[]) {
  const { tokens } = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: false, tokens: true });
  for (const token of tokens) {
    if (token.kind !== 'option') continue;
    const option = (OPTIONS as Record<string, { type: 'string' | 'boolean' }>)[token.name];
    if (!option) throw new UsageError(`unknown option ${token.rawName}`);
    if (option.type === 'string' && token.value === undefined) throw new UsageError(`option ${longName(token.name)} needs a value`);
    if (option.type === 'boolean' && token.value !== undefined) throw new UsageError(`option ${longName(token.name)} takes no value`);
  }
  try {
    return parseArgs({ args: argv, allowPositionals: true, strict: true, options: OPTIONS });
  } catch (error) {
    // What the token pass does not catch, e.g. a value that looks like an option (`--config --offline`).
    throw new UsageError((error as Error).message.split(/\.\s/)[0]!.replace(/'/g, ''));
  }
}

export const USAGE = `wallaroo-gateway — authenticating gateway in front of Wallaroo inference

usage:
  wallaroo-gateway serve --config FILE [--simulate]     run the gateway (--simulate: the embedded simulator as Wallaroo)
  wallaroo-gateway demo                                 the gateway and an embedded Wallaroo simulator with demo
                                                        pipelines on 127.0.0.1:8080 (what npm start runs)
        [--simulate-version 2023.4|2024.2|2025]         serve or demo: the Wallaroo release the simulator behaves
                                                        like (default 2025; implies --simulate)
  wallaroo-gateway check-config --config FILE [--offline]
                                                        validate a config; every problem with its path
                                                        (--offline: secret and CA files need not exist yet)
  wallaroo-gateway convert IN OUT [--to arrow|arrow-stream|json] [--schema FILE]
                                                        pandas-records JSON <-> Arrow IPC, offline; - is stdin/stdout
  wallaroo-gateway spec PIPELINE --config FILE          the pipeline route's OpenAPI 3.1.1 YAML
  wallaroo-gateway help                                 this text (also --help, or no command)

The config file may also be given as WALLAROO_GATEWAY_CONFIG. PORT overrides server.port.
`;
