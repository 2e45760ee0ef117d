/**
 * "UCP: Break Stale Backup Lock" against the real cluster lock: while a backup holds it
 * (fresh heartbeat) the command's plan is to refuse, and the break itself refuses too, even
 * if asked — the lock and its holder stay. (The lock is one per swarm: it is held only for a
 * moment, the normal way, after waiting out teammates' backups; stale locks are the engine's
 * lock tests' business.)
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type Docker from 'dockerode';
import { BackupRunningError } from '../../src/core/engine/errors';
import { BackupLock, readLock } from '../../src/core/lock/clusterLock';
import { SessionPool } from '../../src/core/ssh/sessionPool';
import { breakStale, planLockBreak } from '../../src/vscode/lockBreak';
import { sshDocker, waitForNoLock } from './backupKit';

const pool = new SessionPool();
let docker: Docker;

before(async () => {
  docker = await sshDocker(pool, 'manager2');
});

after(() => pool.closeAll());

test('a live lock is refused by Break Stale Backup Lock and stays held', async () => {
  const backupId = randomUUID();
  let lock: BackupLock | undefined;
  for (let i = 0; !lock; i++) {
    await waitForNoLock(docker);
    lock = await BackupLock.acquire(docker, { backupId, node: 'manager2', owner: 'vscodeBreakLock.test' }).catch((err) => {
      if (!(err instanceof BackupRunningError) || i > 20) throw err;
      return undefined;
    });
  }
  try {
    const current = await readLock(docker);
    assert.equal(current?.backupId, backupId);
    assert.equal(current?.stale, false);
    const plan = planLockBreak('demo', current);
    assert.equal(plan.kind, 'live');
    await assert.rejects(breakStale(docker), (err: Error) => err instanceof BackupRunningError && /not touched/.test((err as BackupRunningError).hint ?? ''));
    assert.equal((await readLock(docker))?.backupId, backupId, 'the lock is still held by the running backup');
  } finally {
    await lock.release();
  }
  assert.notEqual((await readLock(docker))?.backupId, backupId);
});
