/**
 * `ucp-backup list | head -1` in a cron script: the reader closing the pipe early is not an
 * error — no stack trace, and the exit code is the command's own.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { ROOT } from '../helpers/cli';
import { loadTestbed } from '../helpers/testbed';

test('list into a closed pipe exits 0 without an internal error', async () => {
  const tb = loadTestbed();
  const child = spawn(process.execPath, [join(ROOT, 'dist', 'cli.js'), 'list', '--config', tb.clustersFile, '--cluster', tb.clusterName], { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout.destroy(); // the reader is gone before the first line is written
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  assert.doesNotMatch(stderr, /EPIPE|internal error/);
  assert.equal(code, 0);
});
