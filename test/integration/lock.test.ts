/**
 * One backup at a time (the spec): a second backup while one runs fails at once saying
 * "another backup is running", with who/where/since; a lock left by a crashed run expires
 * after its lease and the next backup takes it over, and before that is reported stale and
 * can be broken explicitly.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { hostname } from 'node:os';
import { runCli } from '../helpers/cli';
import { SessionPool } from '../../src/core/ssh/sessionPool';
import { LOCK_NAME, readLock } from '../../src/core/lock/clusterLock';
import { ZERO_TIME, type BackupRecord } from '../../src/core/history/record';
import { createClusterRecord, getClusterRecord } from '../../src/core/history/clusterHistory';
import { randomUUID } from 'node:crypto';
import { runBackup } from '../../src/core/engine/runBackup';
import { BackupRunningError } from '../../src/core/engine/errors';
import { LocalHistory } from '../../src/core/history/localHistory';
import { loadConfigFile } from '../../src/core/config';
import { CONFIG, workDir, sshDocker, waitForNoLock } from './backupKit';

const pool = new SessionPool();
const { dir } = workDir('ucp-backup-lock-');
const env = { UCP_BACKUP_STATE_DIR: join(dir, 'state') };

before(async () => waitForNoLock(await sshDocker(pool, 'manager1')));
after(() => {
  pool.closeAll();
  rmSync(dir, { recursive: true, force: true });
});

test('a second backup while one runs fails at once with the spec message; exactly one runs', async () => {
  const docker = await sshDocker(pool, 'manager1');
  const cluster = (await loadConfigFile(CONFIG)).clusters[0];
  for (let attempt = 0; ; attempt++) {
    await waitForNoLock(docker);
    const started = new Date().toISOString();
    const first = runCli(['backup', '--config', CONFIG, '--node', 'manager1', '--engine', 'builtin', '--file', join(dir, 'a.tar'), '--no-passphrase', '--json'], { env });
    let finished = false;
    void first.then(() => (finished = true));
    // Wait until the first run holds the cluster lock, then start the second one.
    let held;
    while (!finished && !(held = await readLock(docker))) await new Promise((r) => setTimeout(r, 50));
    let second: unknown;
    if (held && held.since >= started) {
      const m2 = cluster.nodes.find((n) => n.name === 'manager2')!;
      second = await runBackup(
        { destination: { kind: 'local', path: join(dir, 'b.tar') }, noPassphrase: true, includeLogs: false, engine: 'builtin' },
        { docker: await sshDocker(pool, 'manager2'), cluster, node: m2, localHistory: new LocalHistory(join(dir, 'state')) },
      ).catch((err: unknown) => err);
    }
    const a = await first;
    // The first run was itself refused (a teammate's backup) or ended before we looked: again.
    if ((a.code === 3 || !second) && attempt < 3) continue;
    assert.equal(a.code, 0, a.stderr);
    assert.equal((JSON.parse(a.stdout) as BackupRecord).backupState, 'SUCCESS');
    assert.ok(second instanceof BackupRunningError, `second run: ${String(second)}`);
    assert.equal(second.exitCode, 3);
    assert.match(second.message, /another backup is running: started by \S+ on \S+ against node manager1 since \d{4}-/);
    assert.ok(!existsSync(join(dir, 'b.tar')));
    // The refused run is in the history as FAILED with the reason.
    const list = JSON.parse((await runCli(['list', '--config', CONFIG, '--json'], { env })).stdout) as BackupRecord[];
    const failed = list.find((r) => r.fileName === 'b.tar' && r.backupPath === dir);
    assert.equal(failed?.backupState, 'FAILED');
    assert.match(failed?.shortError ?? '', /another backup is running/);
    return;
  }
});

test('two backups started at the same moment from two managers: exactly one runs, the other is refused', async () => {
  const cluster = (await loadConfigFile(CONFIG)).clusters[0];
  const start = async (name: string, file: string) =>
    runBackup(
      { destination: { kind: 'local', path: join(dir, file) }, noPassphrase: true, includeLogs: false, engine: 'builtin', owner: `race-${name}` },
      { docker: await sshDocker(pool, name), cluster, node: cluster.nodes.find((n) => n.name === name)!, localHistory: new LocalHistory(join(dir, 'state')) },
    );
  for (let attempt = 0; ; attempt++) {
    await waitForNoLock(await sshDocker(pool, 'manager1'));
    const results = await Promise.allSettled([start('manager1', 'race1.tar'), start('manager2', 'race2.tar')]);
    const refused = results.flatMap((r) => (r.status === 'rejected' && r.reason instanceof BackupRunningError ? [r.reason] : []));
    // Both refused: a teammate's backup took the lock first. Try again.
    if (refused.length === 2 && attempt < 3) continue;
    const ran = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
    assert.equal(ran.length, 1, `exactly one runs: ${results.map((r) => (r.status === 'fulfilled' ? r.value.backupState : String(r.reason))).join(' / ')}`);
    assert.equal(refused.length, 1);
    assert.equal(ran[0].backupState, 'SUCCESS');
    // The refusal names the winner: who, where (its node) and since when.
    assert.match(refused[0].message, new RegExp(`another backup is running: started by race-${ran[0].nodeLocation} on \\S+ against node ${ran[0].nodeLocation} since \\d{4}-`));
    assert.ok(existsSync(join(dir, `race${ran[0].nodeLocation.slice(-1)}.tar`)));
    assert.ok(!existsSync(join(dir, `race${ran[0].nodeLocation === 'manager1' ? 2 : 1}.tar`)));
    return;
  }
});

test('a lock left by a crashed run, before its lease is up, is reported stale and broken only on request', async () => {
  const docker = await sshDocker(pool, 'manager1');
  await waitForNoLock(docker);
  const old = new Date(Date.now() - 10 * 60_000).toISOString();
  const P = 'com.ucp-backup.lock.';
  // What a killed run leaves: its IN_PROGRESS record and the lock config with a heartbeat minutes old.
  const crashed: BackupRecord = {
    id: randomUUID(),
    encrypted: false,
    fileName: 'crashed.tar',
    logFileName: '',
    backupPath: '/tmp',
    backupState: 'IN_PROGRESS',
    nodeLocation: 'manager1',
    shortError: '',
    created_at: old,
    completed_at: ZERO_TIME,
  };
  await createClusterRecord(docker, crashed);
  await docker.createConfig({
    _query: {},
    _body: {
      Name: LOCK_NAME,
      Labels: { [`${P}backupId`]: crashed.id, [`${P}owner`]: 'crashed-admin', [`${P}host`]: hostname(), [`${P}pid`]: '999999', [`${P}node`]: 'manager1', [`${P}since`]: old, [`${P}heartbeat`]: old },
      Data: Buffer.from('{}').toString('base64'),
    },
  });
  try {
    const r = await runCli(['backup', '--config', CONFIG, '--node', 'manager1', '--engine', 'builtin', '--file', join(dir, 'c.tar'), '--no-passphrase'], { env });
    assert.equal(r.code, 3);
    assert.match(r.stderr, /another backup is running: started by crashed-admin/);
    assert.match(r.stderr, /stale/);
    assert.match(r.stderr, /break-lock/);
    assert.equal((await readLock(docker))?.owner, 'crashed-admin', 'a backup never breaks a lock whose lease is not up');
    const broken = await runCli(['break-lock', '--config', CONFIG], { env });
    assert.equal(broken.code, 0, broken.stderr);
    assert.match(broken.stdout, /Removed the lock of crashed-admin/);
    assert.equal(await readLock(docker), undefined);
    // Its record no longer claims to be running.
    const after = await getClusterRecord(docker, crashed.id);
    assert.equal(after?.backupState, 'FAILED');
    assert.match(after?.shortError ?? '', /^interrupted: its lock was broken \(process 999999 on \S+ is gone|no heartbeat since/);
    assert.notEqual(after?.completed_at, ZERO_TIME);
  } finally {
    const l = await readLock(docker);
    if (l?.owner === 'crashed-admin') await docker.getConfig(l.configId).remove();
  }
});

test('a lock whose lease ran out is taken over by the next backup; its run is marked FAILED', async () => {
  const docker = await sshDocker(pool, 'manager1');
  await waitForNoLock(docker);
  const P = 'com.ucp-backup.lock.';
  const now = new Date().toISOString();
  // A run on another machine that stopped renewing: a 1 s lease, written (swarm clock) now.
  const crashed: BackupRecord = {
    id: randomUUID(), encrypted: false, fileName: 'lapsed.tar', logFileName: '', backupPath: '/tmp', backupState: 'IN_PROGRESS',
    nodeLocation: 'manager2', shortError: '', created_at: now, completed_at: ZERO_TIME,
  };
  await createClusterRecord(docker, crashed);
  await docker.createConfig({
    _query: {},
    _body: {
      Name: LOCK_NAME,
      Labels: { [`${P}backupId`]: crashed.id, [`${P}owner`]: 'lapsed-admin', [`${P}host`]: 'other-laptop', [`${P}pid`]: '4242', [`${P}node`]: 'manager2', [`${P}since`]: now, [`${P}heartbeat`]: now, [`${P}heartbeatMs`]: '200', [`${P}leaseMs`]: '1000' },
      Data: Buffer.from('{}').toString('base64'),
    },
  });
  // Our side's minimum lease is 2 s here, so the holder's 1 s is not what counts.
  const short = { ...env, UCP_BACKUP_LOCK_STALE_MS: '2000' };
  try {
    const early = await runCli(['backup', '--config', CONFIG, '--node', 'manager1', '--engine', 'builtin', '--file', join(dir, 'early.tar'), '--no-passphrase'], { env: short });
    assert.equal(early.code, 3, `within the lease the lock holds:\n${early.stderr}`);
    assert.match(early.stderr, /another backup is running: started by lapsed-admin/);
    await new Promise((r) => setTimeout(r, 2500));
    const r = await runCli(['backup', '--config', CONFIG, '--node', 'manager1', '--engine', 'builtin', '--file', join(dir, 'lapsed.tar'), '--no-passphrase', '--json'], { env: short });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, new RegExp(`Took over the lock of lapsed-admin on other-laptop \\(backup ${crashed.id}, since ${now.replace(/\./g, '\\.')}\\): its lease expired: not renewed for \\d+ s \\(lease 2 s\\)`));
    const ours = JSON.parse(r.stdout) as BackupRecord;
    assert.equal(ours.backupState, 'SUCCESS');
    assert.ok(existsSync(join(dir, 'lapsed.tar')));
    const after = await getClusterRecord(docker, crashed.id);
    assert.equal(after?.backupState, 'FAILED');
    assert.equal(after?.shortError, `interrupted: its lock expired (its lease expired: not renewed for ${/not renewed for (\d+ s)/.exec(r.stderr)![1]} (lease 2 s)) and was taken over by backup ${ours.id}`);
    assert.equal(await readLock(docker), undefined, 'our own lock was released; the lapsed one is gone');
  } finally {
    const l = await readLock(docker);
    if (l?.owner === 'lapsed-admin') await docker.getConfig(l.configId).remove();
  }
});

test('break-lock leaves a live lock alone unless forced', async () => {
  const docker = await sshDocker(pool, 'manager1');
  await waitForNoLock(docker);
  const now = new Date().toISOString();
  const P = 'com.ucp-backup.lock.';
  // A lock with a fresh heartbeat held from another machine: a backup that is really running.
  await docker.createConfig({
    _query: {},
    _body: {
      Name: LOCK_NAME,
      Labels: { [`${P}backupId`]: 'live', [`${P}owner`]: 'busy-admin', [`${P}host`]: 'other-laptop', [`${P}pid`]: '4242', [`${P}node`]: 'manager2', [`${P}since`]: now, [`${P}heartbeat`]: now },
      Data: Buffer.from('{}').toString('base64'),
    },
  });
  try {
    const refused = await runCli(['break-lock', '--config', CONFIG], { env });
    assert.equal(refused.code, 3);
    assert.match(refused.stderr, /another backup is running: started by busy-admin on other-laptop against node manager2 since /);
    assert.equal((await readLock(docker))?.owner, 'busy-admin');
    const forced = await runCli(['break-lock', '--config', CONFIG, '--force'], { env });
    assert.equal(forced.code, 0, forced.stderr);
    assert.equal(await readLock(docker), undefined);
  } finally {
    const l = await readLock(docker);
    if (l?.owner === 'busy-admin') await docker.getConfig(l.configId).remove();
  }
});
