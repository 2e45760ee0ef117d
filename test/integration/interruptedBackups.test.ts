/**
 * A backup whose run was killed leaves its record IN_PROGRESS for ever; the tree must not
 * spin on it. Against the real cluster: while the run still holds the cluster lock under its
 * id the record stays IN_PROGRESS; once the lock is gone it is marked FAILED ("interrupted")
 * in the swarm and in the local history, and the tree's list (loadBackupList) says so.
 * The lock is held only for a moment, the normal way (BackupLock.acquire), after waiting out
 * teammates' backups.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import type Docker from 'dockerode';
import type { ClusterConfig } from '../../src/core/config';
import { BackupRunningError } from '../../src/core/engine/errors';
import { listBackups } from '../../src/core/history/backupHistory';
import { createClusterRecord, getClusterRecord, removeClusterRecord } from '../../src/core/history/clusterHistory';
import { LocalHistory } from '../../src/core/history/localHistory';
import { ZERO_TIME, type BackupRecord } from '../../src/core/history/record';
import { INTERRUPTED_ERROR, reconcileInterrupted } from '../../src/core/history/reconcile';
import { BackupLock } from '../../src/core/lock/clusterLock';
import { SessionPool } from '../../src/core/ssh/sessionPool';
import { loadBackupList } from '../../src/vscode/tree/backupList';
import { cluster as demoCluster, sshDocker, waitForNoLock, workDir } from './backupKit';

const pool = new SessionPool();
const { dir } = workDir('ucp-interrupted-');
const local = new LocalHistory(join(dir, 'state'));
let cluster: ClusterConfig;
let docker: Docker;

/** Takes the one cluster lock as a backup run does, once no teammate's backup holds it. */
async function lockAs(backupId: string): Promise<BackupLock> {
  for (let i = 0; ; i++) {
    await waitForNoLock(docker);
    try {
      return await BackupLock.acquire(docker, { backupId, node: 'manager1', owner: 'interruptedBackups.test' });
    } catch (err) {
      if (!(err instanceof BackupRunningError) || i > 20) throw err;
    }
  }
}

before(async () => {
  cluster = await demoCluster();
  docker = await sshDocker(pool, 'manager1');
});

after(() => pool.closeAll());

test('a record stays IN_PROGRESS while its run holds the lock, and is marked interrupted once the run is gone', async () => {
  const id = randomUUID();
  // What a run that started 10 minutes ago and wrote a local file left behind.
  const record: BackupRecord = {
    id, encrypted: false, fileName: `interrupted-${id.slice(0, 8)}.tar`, logFileName: '', backupPath: dir, backupState: 'IN_PROGRESS',
    nodeLocation: 'manager1', shortError: '', created_at: new Date(Date.now() - 10 * 60_000).toISOString(), completed_at: ZERO_TIME,
    location: 'local', cluster: cluster.name,
  };
  try {
    // Lock first, then the record: no other window's tree may judge it before the lock is held.
    const lock = await lockAs(id);
    try {
      await createClusterRecord(docker, record);
      await local.put(record);
      // What the tree lists on a refresh while the run is alive: still spinning.
      const listed = (await loadBackupList(cluster, docker, () => undefined, local)).find((r) => r.id === id);
      assert.equal(listed?.backupState, 'IN_PROGRESS');
      assert.equal((await getClusterRecord(docker, id))?.backupState, 'IN_PROGRESS');
      assert.ok(!(await reconcileInterrupted(docker, local)).some((r) => r.id === id), 'a running backup is not marked');
    } finally {
      await lock.release();
    }

    // The next tree refresh: the run is gone, so the record is stored and listed as interrupted.
    const logged: string[] = [];
    const listed = (await loadBackupList(cluster, docker, (_level, line) => logged.push(line), local)).find((r) => r.id === id);
    assert.equal(listed?.backupState, 'FAILED');
    assert.equal(listed?.shortError, INTERRUPTED_ERROR);
    assert.ok(logged.some((l) => l.includes(id) && /interrupted/.test(l)), 'the log says which backup was marked');
    const stored = await getClusterRecord(docker, id);
    assert.equal(stored?.backupState, 'FAILED');
    assert.equal(stored?.shortError, INTERRUPTED_ERROR);
    assert.notEqual(stored?.completed_at, ZERO_TIME);
    assert.equal((await local.list()).find((r) => r.id === id)?.backupState, 'FAILED', 'the local copy says so too');
    assert.equal((await listBackups(cluster, docker, local)).find((r) => r.id === id)?.backupState, 'FAILED', 'the merged history agrees');

    // Finished records are left alone on the next refresh.
    assert.ok(!(await reconcileInterrupted(docker, local)).some((r) => r.id === id));
  } finally {
    await removeClusterRecord(docker, id);
    await local.remove(id);
  }
});

test('a record created moments ago without a lock yet (a run starting) is not judged', async () => {
  const id = randomUUID();
  const record: BackupRecord = {
    id, encrypted: false, fileName: `starting-${id.slice(0, 8)}.tar`, logFileName: '', backupPath: '/var/backups/ucp', backupState: 'IN_PROGRESS',
    nodeLocation: 'manager1', shortError: '', created_at: new Date().toISOString(), completed_at: ZERO_TIME, location: 'host', cluster: cluster.name,
  };
  try {
    await createClusterRecord(docker, record);
    assert.ok(!(await reconcileInterrupted(docker, local)).some((r) => r.id === id));
    assert.equal((await getClusterRecord(docker, id))?.backupState, 'IN_PROGRESS');
  } finally {
    await removeClusterRecord(docker, id);
  }
});
