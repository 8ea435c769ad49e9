import { parseArgs } from 'node:util';

/** Shared argv parsing for every command: `--config FILE`, `--simulate`, `--offline`, `--to`, `--schema`, `--help`. */
export function parseCommandArgs(argv: string[]) {
  return parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: {
      config: { type: 'string', short: 'c' },
      simulate: { type: 'boolean', default: false },
      offline: { type: 'boolean', default: false },
      to: { type: 'string' },
      schema: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
}

export const USAGE = `wallaroo-gateway — authenticating gateway in front of Wallaroo inference

usage:
  wallaroo-gateway serve --config FILE [--simulate]     run the gateway (--simulate: the embedded simulator as Wallaroo)
  wallaroo-gateway demo                                 the gateway and an embedded Wallaroo simulator with demo
                                                        pipelines on 127.0.0.1:8080 (what npm start runs)
  wallaroo-gateway check-config --config FILE [--offline]
                                                        validate a config; every problem with its path
                                                        (--offline: secret and CA files need not exist yet)
  wallaroo-gateway convert IN OUT [--to arrow|arrow-stream|json] [--schema FILE]
                                                        pandas-records JSON <-> Arrow IPC, offline; - is stdin/stdout
  wallaroo-gateway spec PIPELINE --config FILE          the pipeline route's OpenAPI 3.1.1 YAML
  wallaroo-gateway help                                 this text (also --help, or no command)

The config file may also be given as WALLAROO_GATEWAY_CONFIG. PORT overrides server.port.
`;
