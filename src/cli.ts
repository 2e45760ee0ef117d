#!/usr/bin/env node
/**
 * `ucp-backup`: the headless face of src/core, for cron jobs and benchmarks.
 * Each subcommand lives in src/cli/<name>.ts; this file only dispatches.
 */
import { runCli } from './cli/main';

runCli(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err) => {
    process.stderr.write(`ucp-backup: internal error: ${err?.stack ?? err}\n`);
    process.exitCode = 2;
  },
);
