#!/usr/bin/env node
import { runCli } from './cli/index.ts';

// The process entry point: run the command; a server keeps the process alive, a command sets the exit code.
const code = await runCli(process.argv.slice(2));
if (code !== null) process.exitCode = code;
