/**
 * Faults of the history and of what others do to the cluster: a record in the swarm that
 * another version or a hand edit made malformed is reported and skipped, never breaking the
 * list; an auth store someone else paused stays paused (only a pause our record shows is
 * undone); a built-in host-path archive, which holds the CA keys, is mode 0600.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import type Docker from 'dockerode';
import { runCli } from '../helpers/cli';
import { SessionPool } from '../../src/core/ssh/sessionPool';
import { deleteBackupFiles } from '../../src/core/docker/hostFiles';
import { loadBackupHistory } from '../../src/vscode/tree/backupList';
import type { BackupRecord } from '../../src/core/history/record';
import { createClusterRecord, getClusterRecord, removeClusterRecord } from '../../src/core/history/clusterHistory';
import { LocalHistory } from '../../src/core/history/localHistory';
import { CONFIG, cluster, sshDocker, testbedManager, waitForNoLock, workDir } from './backupKit';

const pool = new SessionPool();
const { dir, passFile } = workDir('ucp-backup-faultrec-');
const env = { UCP_BACKUP_STATE_DIR: join(dir, 'state') };
const m1 = testbedManager('manager1');
/** A record of another shape: every field right but the state. */
const otherState = JSON.stringify({ id: 'x', encrypted: false, fileName: 'a.tar', logFileName: '', backupPath: '/b', backupState: 'DONE', nodeLocation: 'manager1', shortError: '', created_at: '2026-01-01T00:00:00Z', completed_at: '2026-01-01T00:01:00Z' });
const BAD = ['"just a string"', '{}', '[1,2,3]', '42', otherState, 'not json at all'];
const badNames = BAD.map((_, i) => `ucp-backup.record.malformed-test-${process.pid}-${i}`);
const made: BackupRecord[] = [];

before(async () => {
  const docker = await sshDocker(pool, 'manager1');
  for (const [i, label] of BAD.entries()) {
    await docker.createConfig({ _query: {}, _body: { Name: badNames[i], Labels: { 'com.ucp-backup.kind': 'record', 'com.ucp-backup.record': label }, Data: Buffer.from('x').toString('base64') } });
  }
});

after(async () => {
  const docker = await sshDocker(pool, 'manager1');
  for (const n of badNames) await docker.getConfig(n).remove().catch(() => undefined);
  for (const r of made) if (r.location === 'host') await deleteBackupFiles(docker, r).catch(() => undefined);
  pool.closeAll();
});

test('malformed records in the swarm (a string, {}, an array, a number, a bad state, not JSON) are skipped and reported; list and list --json still work', async () => {
  const plain = await runCli(['list', '--config', CONFIG], { env });
  assert.equal(plain.code, 0, plain.stderr);
  const json = await runCli(['list', '--config', CONFIG, '--json'], { env });
  assert.equal(json.code, 0, json.stderr);
  const records = JSON.parse(json.stdout) as BackupRecord[];
  assert.ok(records.every((r) => typeof r.id === 'string' && typeof r.created_at === 'string'), 'only well-formed records are listed');
  for (const n of badNames) assert.match(json.stderr, new RegExp(`skipped a malformed record \\(swarm config ${n}: [^)]+\\)`), json.stderr);
  assert.match(json.stderr, /not a record but a string/);
  assert.match(json.stderr, /backupState is "DONE", not IN_PROGRESS, SUCCESS or FAILED/);
  assert.match(json.stderr, /label is not JSON/);
  // The tree's list: the good records, and each malformed one as a warning beside them.
  const docker = await sshDocker(pool, 'manager1');
  const tree = await loadBackupHistory(await cluster(), docker, () => undefined, new LocalHistory(join(dir, 'state')));
  assert.equal(tree.records.length, records.length);
  assert.deepEqual(tree.malformed.map((m) => m.source).sort(), badNames.map((n) => `swarm config ${n}`).sort());
});

/** ucp-auth-store paused by someone else: a backup into `file` succeeds and leaves it paused. */
async function assertForeignPauseKept(docker: Docker, file: string): Promise<void> {
  const auth = docker.getContainer('ucp-auth-store');
  await auth.pause();
  try {
    const r = await runCli(['backup', '--config', CONFIG, '--node', 'manager1', '--engine', 'builtin', '--file', join(dir, file), '--no-passphrase', '--json', '--verbose'], { env });
    assert.equal(r.code, 0, r.stderr);
    made.push(JSON.parse(r.stdout) as BackupRecord);
    assert.match(r.stderr, /ucp-auth-store is paused, not by a backup of ours: left paused/);
    assert.equal((await auth.inspect()).State.Paused, true, 'still paused: the pause is not ours to undo');
  } finally {
    await auth.unpause().catch(() => undefined);
  }
}

test('an auth store paused by someone else before the backup stays paused; the backup still succeeds', async () => {
  const docker = await sshDocker(pool, 'manager1');
  await waitForNoLock(docker);
  await assertForeignPauseKept(docker, 'paused.tar');
});

test('a stale "paused by us" mark (its write reached the swarm after the run gave up) is cleared, so a later pause by someone else stays', async () => {
  const docker = await sshDocker(pool, 'manager1');
  await waitForNoLock(docker);
  // What a run cut off by a lost quorum can leave: FAILED, claiming a pause it never made.
  const at = new Date().toISOString();
  const stale: BackupRecord = { id: randomUUID(), encrypted: false, fileName: 'stale-mark.tar', logFileName: '', backupPath: dir, backupState: 'FAILED', nodeLocation: 'manager1', shortError: 'cut off', created_at: at, completed_at: at, location: 'local', authStorePaused: true };
  await createClusterRecord(docker, stale);
  try {
    const first = await runCli(['backup', '--config', CONFIG, '--node', 'manager1', '--engine', 'builtin', '--file', join(dir, 'clears.tar'), '--no-passphrase', '--json'], { env });
    assert.equal(first.code, 0, first.stderr);
    made.push(JSON.parse(first.stdout) as BackupRecord);
    assert.equal((await getClusterRecord(docker, stale.id))?.authStorePaused, false, 'the stale mark is cleared');
    await assertForeignPauseKept(docker, 'after-mark.tar');
  } finally {
    // A planted record: not left in the cluster's history for later tests.
    await removeClusterRecord(docker, stale.id).catch(() => undefined);
  }
});

test('a built-in host-path archive and its log are written 0600 (they hold the CA private keys)', async () => {
  const docker = await sshDocker(pool, 'manager1');
  await waitForNoLock(docker);
  const name = `mode-${process.pid}.tar`;
  const r = await runCli(['backup', '--config', CONFIG, '--node', 'manager1', '--engine', 'builtin', '--host-path', m1.backupDir, '--name', name, '--passphrase-file', passFile, '--include-logs', '--json'], { env });
  assert.equal(r.code, 0, r.stderr);
  const record = JSON.parse(r.stdout) as BackupRecord;
  made.push(record);
  for (const f of [name, record.logFileName]) {
    const st = statSync(join(m1.backupDir, f));
    assert.equal(st.mode & 0o777, 0o600, `${f}: mode ${(st.mode & 0o777).toString(8)}`);
    assert.equal(st.uid, 65534, `${f} is owned by nobody`);
  }
});
