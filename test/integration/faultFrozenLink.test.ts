/**
 * Fault: the manager's SSH link freezes in the middle of a transfer (its sshd processes of our
 * connection SIGSTOPped while volume bytes flow; TCP stays up, nothing answers). For each engine
 * and destination: keepalive notices it, the CLI exits non-zero naming the lost connection,
 * never hangs and never exits 0; the record ends FAILED, nothing that looks like a backup is
 * left at the destination, no lock, no helper or `ucp` container, ucp-auth-store not paused.
 * Before the fix this ended in exit 0 with no result, the record IN_PROGRESS and the lock held.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, rmSync } from 'node:fs';
import { runCli } from '../helpers/cli';
import { join } from 'node:path';
import { serverPidsOf } from '../helpers/testbed';
import { CONFIG, waitForNoLock, workDir } from './backupKit';
import { assertFailedCleanly, backupWithFault, failHung, m3, m3Docker, writeFiller } from './faultKit';

const { dir, passFile } = workDir('ucp-backup-frozen-');
let bigFile = '';

before(async () => {
  // Large enough that the transfer is still running when the link freezes (~1 s at tunnel speed).
  bigFile = writeFiller('frozen-link-filler.bin', 256 << 20);
  await waitForNoLock(m3Docker);
});

after(() => {
  rmSync(bigFile, { force: true });
  rmSync(dir, { recursive: true, force: true });
});

for (const engine of ['builtin', 'official'] as const) {
  for (const dest of ['local', 'host'] as const) {
    test(`${engine} engine, ${dest === 'local' ? 'local file' : 'host path'}: a link frozen mid-transfer ends FAILED with a non-zero exit naming the lost connection, nothing left behind`, async () => {
      await waitForNoLock(m3Docker);
      const name = `frozen-${engine}-${dest}-${Date.now()}.tar`;
      const where = dest === 'local' ? ['--file', join(dir, name)] : ['--host-path', m3.backupDir, '--name', name];
      let frozen: number[] = [];
      const run = await backupWithFault(
        ['--engine', engine, ...where, '--passphrase-file', passFile],
        (cliPid) => {
          frozen = serverPidsOf(cliPid, m3.host, m3.sshPort);
          for (const pid of frozen) process.kill(pid, 'SIGSTOP');
        },
        // Keepalive every 500 ms: the loss is noticed in ~2 s instead of ~45 s (same code path).
        { UCP_BACKUP_STATE_DIR: join(dir, 'state'), UCP_BACKUP_SSH_KEEPALIVE_MS: '500' },
      );
      for (const pid of frozen) {
        try {
          process.kill(pid, 'SIGCONT');
        } catch {
          /* gone */
        }
      }
      assert.ok(frozen.length > 0, `the link was frozen during the volumes step:\n${run.stderr}`);
      await failHung(run);
      assert.match(run.stderr, /connection to manager3.*(lost|closed|stopped answering)/i, run.stderr);
      const record = await assertFailedCleanly(run, name, dest === 'local' ? dir : undefined);
      assert.match(record.shortError, /connection to manager3/i);
      if (dest === 'host') {
        // With the link gone the run cannot remove its temp file on the manager: only a hidden
        // partial of this very run may be left, and the next backup to that folder removes it.
        const mine = `.${name}.partial-${record.id.slice(0, 8)}`;
        const left = () => readdirSync(m3.backupDir).filter((f) => f.includes(name) && !f.startsWith('after-'));
        assert.ok(left().every((f) => f === mine), `only this run's hidden partial: ${left().join(', ')}`);
        // Built-in for the follow-up whatever engine froze: the partials are removed at validation, before either engine runs.
        const next = await runCli(['backup', '--config', CONFIG, '--node', 'manager3', '--engine', 'builtin', '--host-path', m3.backupDir, '--name', `after-${name}`, '--no-passphrase'], { env: { UCP_BACKUP_STATE_DIR: join(dir, 'state') } });
        assert.equal(next.code, 0, next.stderr);
        assert.deepEqual(left(), [], 'the next backup removed the partial');
        rmSync(join(m3.backupDir, `after-${name}`), { force: true });
      }
    });
  }
}
