#!/usr/bin/env node
/**
 * `ucp-backup`: the headless face of src/core, for cron jobs and benchmarks.
 * Each subcommand lives in src/cli/<name>.ts; this file only dispatches.
 */
import { runCli } from './cli/main';

// `ucp-backup list | head` closes our stdout early: that is the reader's choice, not an error.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw err;
});

runCli(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err) => {
    process.stderr.write(`ucp-backup: internal error: ${err?.stack ?? err}\n`);
    process.exitCode = 2;
  },
);
