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

// Node exits 0 when nothing is left to wait for — also when a command's promise can never
// settle because a stream under it went away without an error. Exit 0 must mean done (a cron
// job takes it for a published backup), so an unfinished command exits 1 with a sentence.
let finished = false;
process.on('beforeExit', () => {
  if (finished) return;
  finished = true;
  process.stderr.write('ucp-backup: the command stopped before it finished: a connection it was waiting on went away without an error. Nothing was completed; run it again.\n');
  process.exitCode = 1;
});

runCli(process.argv.slice(2)).then(
  (code) => {
    finished = true;
    process.exitCode = code;
  },
  (err) => {
    finished = true;
    // One sentence for the admin; the stack only when asked for (UCP_BACKUP_DEBUG=1).
    process.stderr.write(`ucp-backup: internal error: ${(process.env.UCP_BACKUP_DEBUG ? err?.stack : err?.message) ?? err}\n`);
    process.exitCode = 2;
  },
);
