// How every command reports a failure on stderr: one line that starts with the program's name (a config's
// problems follow that line, one per line), never a stack trace.

const PROGRAM = 'wallaroo-gateway';

/** `wallaroo-gateway: MESSAGE` on `err`; returns the exit code given. */
export function reportError(err: NodeJS.WritableStream, message: string, exitCode: 1 | 2): 1 | 2 {
  err.write(`${PROGRAM}: ${message}\n`);
  return exitCode;
}

/** An argv the CLI cannot take: one line pointing at --help, exit 2. */
export function reportUsageError(err: NodeJS.WritableStream, message: string): 2 {
  err.write(`${PROGRAM}: ${message}; see ${PROGRAM} --help\n`);
  return 2;
}
