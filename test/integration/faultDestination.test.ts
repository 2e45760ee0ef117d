/**
 * Faults at the destination, for each engine: the file system fills up (a small tmpfs here, or
 * on manager3 itself for a host path: mounted in its dockerd's mount namespace, so only that
 * node sees it), and the destination folder is removed while the backup is written into it.
 * Each ends exit 1 within seconds with the cause in the admin's words ("No space left on …",
 * "… was removed while the backup ran"), the record FAILED, nothing published or left half-
 * written, no lock, helper or paused container. Before the fix a full host path failed after up
 * to a minute as "Premature close", and a removed folder as a bare ENOENT.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chownSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { waitForNoLock, workDir } from './backupKit';
import { assertFailedCleanly, backupWithFault, failHung, m3, m3Docker, writeFiller } from './faultKit';

const { dir, passFile } = workDir('ucp-backup-destfault-');
const NOBODY = 65534;
let filler = '';
/** On this machine: a 8 MiB tmpfs, far smaller than the 64 MiB the volumes now hold. */
const localFull = join(dir, 'full');
/** A folder on this machine and manager3; manager3 sees a 256 KiB tmpfs there, we see a plain folder. */
const hostFull = mkdtempSync('/tmp/ucp-backup-hostfull-');
const inManager3 = (args: string[]) => execFileSync('nsenter', ['-t', readFileSync(m3.dockerPidFile, 'utf8').trim(), '-m', ...args]);

before(async () => {
  filler = writeFiller('destination-filler.bin', 64 << 20);
  mkdirSync(localFull);
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=8m,mode=0700', 'tmpfs', localFull]);
  inManager3(['mount', '-t', 'tmpfs', '-o', `size=256k,mode=0700,uid=${NOBODY},gid=${NOBODY}`, 'tmpfs', hostFull]);
  await waitForNoLock(m3Docker);
});

after(() => {
  rmSync(filler, { force: true });
  execFileSync('umount', [localFull]);
  inManager3(['umount', hostFull]);
  rmSync(hostFull, { recursive: true, force: true });
  rmSync(dir, { recursive: true, force: true });
});

const env = { UCP_BACKUP_STATE_DIR: join(dir, 'state') };

for (const engine of ['builtin', 'official'] as const) {
  test(`${engine} engine, local file: a full file system fails at once with "No space left", nothing published`, async () => {
    const name = `full-${engine}-${Date.now()}.tar`;
    const started = Date.now();
    const run = await backupWithFault(['--engine', engine, '--file', join(localFull, name), '--passphrase-file', passFile], () => undefined, env);
    await failHung(run);
    assert.match(run.stderr, new RegExp(`No space left on this machine in ${localFull}`), run.stderr);
    assert.doesNotMatch(run.stderr, /Premature close|ENOSPC|\n\s+at /, 'the cause, in words, without a stack');
    const record = await assertFailedCleanly(run, name, localFull);
    assert.match(record.shortError, /No space left/);
    console.log(`# ${engine}, local full: failed after ${Date.now() - started} ms`);
  });

  test(`${engine} engine, host path: the manager's full disk fails with "No space left on manager3", nothing published`, async () => {
    const name = `full-${engine}-${Date.now()}.tar`;
    const started = Date.now();
    const run = await backupWithFault(['--engine', engine, '--host-path', hostFull, '--name', name, '--passphrase-file', passFile], () => undefined, env);
    await failHung(run);
    assert.match(run.stderr, new RegExp(`No space left on manager3 in ${hostFull}`), run.stderr);
    assert.doesNotMatch(run.stderr, /Premature close|\n\s+at /, 'the cause, in words, without a stack');
    const record = await assertFailedCleanly(run, name, undefined);
    assert.match(record.shortError, /No space left/);
    // What manager3 sees in the folder: nothing with the backup's name, no partial.
    assert.equal(inManager3(['ls', '-A', hostFull]).toString().trim(), '');
    console.log(`# ${engine}, host full: failed after ${Date.now() - started} ms`);
  });

  for (const dest of ['local', 'host'] as const) {
    test(`${engine} engine, ${dest === 'local' ? 'local file' : 'host path'}: the folder removed mid-run fails naming it, nothing published`, async () => {
      const folder = mkdtempSync(join(dest === 'local' ? dir : '/tmp', 'ucp-backup-gone-'));
      if (dest === 'host') chownSync(folder, NOBODY, NOBODY);
      const name = `gone-${engine}-${Date.now()}.tar`;
      const where = dest === 'local' ? ['--file', join(folder, name)] : ['--host-path', folder, '--name', name];
      // The volumes hold 64 MiB: far more than can be written in the moment it takes to remove the folder.
      const run = await backupWithFault(['--engine', engine, ...where, '--passphrase-file', passFile], () => rmSync(folder, { recursive: true, force: true }), env);
      assert.ok(run.struck, `the volumes step was reached:\n${run.stderr}`);
      await failHung(run);
      const shownWhere = dest === 'local' ? 'this machine' : 'manager3';
      assert.match(run.stderr, new RegExp(`The backup folder ${folder} on ${shownWhere} was removed while the backup ran`), run.stderr);
      assert.doesNotMatch(run.stderr, /ENOENT|\n\s+at /, 'the cause, in words, without a stack');
      const record = await assertFailedCleanly(run, name, undefined);
      assert.match(record.shortError, /was removed while the backup ran/);
      rmSync(folder, { recursive: true, force: true });
    });
  }
}
