import { parseArgs } from 'node:util';

/** Shared argv parsing for every command: `--config FILE`, `--simulate`, `--simulate-version`, `--to`, `--schema`, `--help`. */
export function parseCommandArgs(argv: string[]) {
  return parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: {
      config: { type: 'string', short: 'c' },
      simulate: { type: 'boolean', default: false },
      'simulate-version': { type: 'string' },
      to: { type: 'string' },
      schema: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
}

export const USAGE = `wallaroo-gateway — authenticating gateway in front of Wallaroo inference

usage:
  wallaroo-gateway serve [--config FILE] [--simulate]   run the gateway (no config: demo with the simulator)
        [--simulate-version 2023.4|2024.2|2025]          the Wallaroo release the simulator behaves like
                                                         (default 2025; implies --simulate)
  wallaroo-gateway check-config --config FILE            validate a config; every problem with its path
  wallaroo-gateway convert IN OUT [--to arrow|json] [--schema FILE]
                                                         pandas-records JSON <-> Arrow IPC, offline
  wallaroo-gateway spec PIPELINE --config FILE           the pipeline route's OpenAPI 3.1.1 YAML

The config file may also be given as WALLAROO_GATEWAY_CONFIG. PORT overrides server.port.
`;
