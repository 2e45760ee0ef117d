/**
 * One backup at a time (the spec): a second backup while one runs fails at once saying
 * "another backup is running", with who/where/since; a lock left by a crashed run is
 * detected as stale and can be broken explicitly.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { hostname } from 'node:os';
import { runCli } from '../helpers/cli';
import { SessionPool } from '../../src/core/ssh/sessionPool';
import { LOCK_NAME, readLock } from '../../src/core/lock/clusterLock';
import type { BackupRecord } from '../../src/core/history/record';
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

test('a lock left by a crashed run is reported stale and broken only on request', async () => {
  const docker = await sshDocker(pool, 'manager1');
  await waitForNoLock(docker);
  const old = new Date(Date.now() - 10 * 60_000).toISOString();
  const P = 'com.ucp-backup.lock.';
  // What a killed run leaves: the lock config with a heartbeat minutes old.
  await docker.createConfig({
    _query: {},
    _body: {
      Name: LOCK_NAME,
      Labels: { [`${P}backupId`]: 'crashed', [`${P}owner`]: 'crashed-admin', [`${P}host`]: hostname(), [`${P}pid`]: '999999', [`${P}node`]: 'manager1', [`${P}since`]: old, [`${P}heartbeat`]: old },
      Data: Buffer.from('{}').toString('base64'),
    },
  });
  try {
    const r = await runCli(['backup', '--config', CONFIG, '--node', 'manager1', '--engine', 'builtin', '--file', join(dir, 'c.tar'), '--no-passphrase'], { env });
    assert.equal(r.code, 3);
    assert.match(r.stderr, /another backup is running: started by crashed-admin/);
    assert.match(r.stderr, /stale/);
    assert.match(r.stderr, /break-lock/);
    assert.equal((await readLock(docker))?.owner, 'crashed-admin', 'a backup must never break a lock by itself');
    const broken = await runCli(['break-lock', '--config', CONFIG], { env });
    assert.equal(broken.code, 0, broken.stderr);
    assert.match(broken.stdout, /Removed the lock of crashed-admin/);
    assert.equal(await readLock(docker), undefined);
  } finally {
    const l = await readLock(docker);
    if (l?.owner === 'crashed-admin') await docker.getConfig(l.configId).remove();
  }
});
