/**
 * Fault: 2, 5 and 10 backups started at once from separate processes against all three managers.
 * Exactly one runs; every other is refused at once with the spec's message ("another backup is
 * running") naming the one that runs, exit 3, and publishes nothing. The one that got the lock is
 * stopped (SIGSTOP) the moment it reaches its volumes step and woken only after all the others
 * have ended, so none of them can start after it finished: the test cannot pass by timing luck.
 * The CLI is the bundled one (as shipped), so ten of them start in well under a second.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { bundleCli } from '../helpers/archives';
import { readLock } from '../../src/core/lock/clusterLock';
import type { BackupRecord } from '../../src/core/history/record';
import { CONFIG, waitForNoLock, workDir } from './backupKit';
import { m3Docker } from './faultKit';

const { dir } = workDir('ucp-backup-concurrent-');
let cli = '';

before(async () => {
  cli = await bundleCli(dir);
  await waitForNoLock(m3Docker);
});

after(() => rmSync(dir, { recursive: true, force: true }));

interface Ended {
  i: number;
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

for (const n of [2, 5, 10]) {
  test(`${n} backups started at once from ${n} processes: exactly one runs, the others are refused at once naming it`, async () => {
    await waitForNoLock(m3Docker);
    const started = Date.now();
    const children: ChildProcess[] = [];
    let winner: number | undefined;
    const reachedVolumes: number[] = [];
    const ends = Array.from({ length: n }, (_, i) =>
      new Promise<Ended>((resolve) => {
        const node = `manager${(i % 3) + 1}`;
        const child = spawn(process.execPath, [cli, 'backup', '--config', CONFIG, '--node', node, '--no-passphrase', '--file', join(dir, `c${n}-${i}.tar`), '--json'], {
          env: { ...process.env, UCP_BACKUP_STATE_DIR: join(dir, 'state') },
        });
        children.push(child);
        let stdout = '';
        let stderr = '';
        child.stdout!.on('data', (d) => (stdout += d));
        child.stderr!.on('data', (d) => {
          stderr += d;
          if (!reachedVolumes.includes(i) && /^\[volumes\]/m.test(stderr)) {
            reachedVolumes.push(i);
            // The first to hold the lock is held there until the others have ended.
            if (winner === undefined) {
              winner = i;
              child.kill('SIGSTOP');
            }
          }
        });
        child.on('close', (code) => resolve({ i, code, stdout, stderr, ms: Date.now() - started }));
      }),
    );
    // Whatever happens, nothing stays stopped or running past the test.
    const hang = setTimeout(() => children.forEach((c) => c.kill('SIGKILL')), 90_000);
    try {
      const finished: Ended[] = [];
      for (const p of ends) void p.then((e) => finished.push(e));
      // Every process but the stopped one ends by itself (or all do, if none got the lock).
      const othersDone = () => finished.length === n || (winner !== undefined && finished.filter((e) => e.i !== winner).length === n - 1);
      while (!othersDone()) await new Promise((r) => setTimeout(r, 50));
      const losers = finished.filter((e) => e.i !== winner);
      assert.notEqual(winner, undefined, `one backup reached its volumes step:\n${losers.map((l) => l.stderr).join('\n---\n')}`);
      assert.deepEqual(reachedVolumes, [winner], 'only the one holding the lock got past validation');
      const slowest = Math.max(...losers.map((l) => l.ms));
      children[winner!].kill('SIGCONT');
      const won = await ends[winner!];
      assert.equal(won.code, 0, `the one that runs succeeds:\n${won.stderr}`);
      const record = JSON.parse(won.stdout) as BackupRecord;
      assert.equal(record.backupState, 'SUCCESS');
      assert.ok(existsSync(join(dir, `c${n}-${winner}.tar`)));
      assert.equal(losers.length, n - 1);
      for (const l of losers) {
        assert.equal(l.code, 3, `refused with exit 3:\n${l.stderr}`);
        assert.match(l.stderr, new RegExp(`The backup failed because another backup is running: started by .+ since \\S+ \\(backup ${record.id}\\)`), l.stderr);
        assert.doesNotMatch(l.stderr, /\n\s+at /, 'no stack trace');
        assert.ok(!existsSync(join(dir, `c${n}-${l.i}.tar`)), 'a refused backup publishes nothing');
      }
      assert.deepEqual(readdirSync(dir).filter((f) => f.includes('partial')), []);
      assert.equal(await readLock(m3Docker), undefined, 'the lock is free afterwards');
      console.log(`# ${n} at once: ${n - 1} refused, the slowest refusal ${slowest} ms after the start`);
    } finally {
      clearTimeout(hang);
      children.forEach((c) => c.kill('SIGCONT'));
    }
  });
}
