/**
 * The admin cancels a running backup (Cancel in VS Code = an AbortSignal in core; Ctrl-C =
 * SIGINT in the CLI): the run ends FAILED with a shortError, and leaves no archive, no temp
 * file, no lock, no helper container and no paused UCP container behind.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type Docker from 'dockerode';
import { SessionPool } from '../../src/core/ssh/sessionPool';
import { runBackup, CANCELLED_ERROR } from '../../src/core/engine/runBackup';
import { BackupRunningError } from '../../src/core/engine/errors';
import { HELPER_LABEL, createHelper, removeQuietly } from '../../src/core/engine/dockerStreams';
import { CancelledError } from '../../src/core/errors';
import { LocalHistory } from '../../src/core/history/localHistory';
import { createClusterRecord, getClusterRecord, updateClusterRecord } from '../../src/core/history/clusterHistory';
import { readLock } from '../../src/core/lock/clusterLock';
import type { ProgressEvent } from '../../src/core/progress';
import { ZERO_TIME, type BackupRecord } from '../../src/core/history/record';
import { backupInterrupted, CONFIG, cluster, node, workDir, sshDocker, waitForNoLock } from './backupKit';

const pool = new SessionPool();
const { dir } = workDir('ucp-backup-cancel-');
const env = { UCP_BACKUP_STATE_DIR: join(dir, 'state') };

before(async () => waitForNoLock(await sshDocker(pool, 'manager2')));
after(() => {
  pool.closeAll();
  rmSync(dir, { recursive: true, force: true });
});

/** What a cancelled run must not leave: files in `dir`, the lock, helpers, a paused container. */
async function assertNothingLeft(docker: Docker, runId: string, fileName: string): Promise<void> {
  assert.deepEqual(readdirSync(dir).filter((n) => n.includes(fileName.replace(/\.tar$/, ''))), [], 'no archive and no temp file');
  const lock = await readLock(docker);
  assert.notEqual(lock?.backupId, runId, 'the lock is released');
  const helpers = await docker.listContainers({ all: true, filters: { label: [`${HELPER_LABEL}=${runId}`] } });
  assert.deepEqual(helpers.map((c) => c.Names[0]), [], 'no helper container');
  // Once no other run holds the lock, nothing may be left paused (ucp-auth-store during its copy).
  await waitForNoLock(docker);
  const paused = await docker.listContainers({ all: true, filters: { status: ['paused'] } });
  assert.deepEqual(paused.map((c) => c.Names[0]), [], 'no UCP container left paused');
}

test('cancelling through the AbortSignal in the middle of a volume ends FAILED and leaves nothing', async () => {
  const docker = await sshDocker(pool, 'manager2');
  for (;;) {
    const ac = new AbortController();
    const events: ProgressEvent[] = [];
    let record: BackupRecord | undefined;
    const err = await runBackup(
      { destination: { kind: 'local', path: join(dir, 'core.tar') }, passphrase: 'secret12chars', includeLogs: true, engine: 'builtin' },
      {
        docker,
        cluster: await cluster(),
        node: await node('manager2'),
        signal: ac.signal,
        localHistory: new LocalHistory(join(dir, 'state')),
        onRecord: (r) => (record = r),
        onProgress: (e) => {
          events.push(e);
          // The first bytes of a volume are flowing: cancel right there.
          if (e.step === 'volumes' && /: \d+ bytes$/.test(e.message)) ac.abort();
        },
      },
    ).then(
      () => undefined,
      (e: unknown) => e,
    );
    if (err instanceof BackupRunningError) {
      await waitForNoLock(docker);
      continue;
    }
    assert.ok(err instanceof CancelledError, `expected a cancel, got ${String(err)}`);
    assert.ok(ac.signal.aborted, 'the run got as far as a volume');
    assert.ok(!events.some((e) => e.step === 'etcd'), 'nothing ran after the cancel');
    assert.equal(record?.backupState, 'FAILED');
    assert.equal(record?.shortError, CANCELLED_ERROR);
    assert.notEqual(record?.completed_at, '0001-01-01T00:00:00Z');
    assert.equal((await getClusterRecord(docker, record!.id))?.backupState, 'FAILED');
    const local = (await new LocalHistory(join(dir, 'state')).list()).find((r) => r.id === record!.id);
    assert.equal(local?.backupState, 'FAILED');
    await assertNothingLeft(docker, record!.id, 'core.tar');
    return;
  }
});

test('Ctrl-C (SIGINT) on the CLI during the volumes step exits 130 with a FAILED record and leaves nothing', async () => {
  const docker = await sshDocker(pool, 'manager2');
  const { code, stdout, stderr, sent } = await backupInterrupted(docker, ['--config', CONFIG, '--node', 'manager2', '--engine', 'builtin', '--file', join(dir, 'cli.tar'), '--no-passphrase', '--json'], env);
  assert.ok(sent, stderr);
  assert.equal(code, 130, stderr);
  const record = JSON.parse(stdout) as BackupRecord;
  assert.equal(record.backupState, 'FAILED');
  assert.equal(record.shortError, CANCELLED_ERROR);
  assert.equal((await getClusterRecord(docker, record.id))?.shortError, CANCELLED_ERROR);
  await assertNothingLeft(docker, record.id, 'cli.tar');
});

test("a killed backup's helper is removed by the next backup; a verify's helper (no backup record) is left alone", async () => {
  const docker = await sshDocker(pool, 'manager2');
  const killedRun = randomUUID();
  const verifyRun = randomUUID();
  // What `kill -9` during a backup leaves: its IN_PROGRESS record and its helper container.
  await createClusterRecord(docker, { id: killedRun, encrypted: false, fileName: 'killed.tar', logFileName: '', backupPath: dir, backupState: 'IN_PROGRESS', nodeLocation: 'manager2', shortError: '', created_at: new Date().toISOString(), completed_at: ZERO_TIME });
  const helper = (runId: string, purpose: string) => createHelper(docker, { runId, purpose, Image: 'docker/ucp-proxy:3.2.4', Entrypoint: ['/never-started'] });
  const killed = await helper(killedRun, 'volumes');
  const verifying = await helper(verifyRun, 'verify');
  try {
    for (;;) {
      const r = await runBackup(
        { destination: { kind: 'local', path: join(dir, 'next.tar') }, noPassphrase: true, includeLogs: false, engine: 'builtin' },
        { docker, cluster: await cluster(), node: await node('manager2'), localHistory: new LocalHistory(join(dir, 'state')) },
      ).catch((err: unknown) => err);
      if (r instanceof BackupRunningError) {
        await waitForNoLock(docker);
        continue;
      }
      assert.equal((r as BackupRecord).backupState, 'SUCCESS', String(r));
      break;
    }
    await assert.rejects(killed.inspect(), /no such container/i);
    assert.equal((await verifying.inspect()).State.Status, 'created');
  } finally {
    await removeQuietly(killed);
    await removeQuietly(verifying);
    // Leave the shared history truthful: that run never finished.
    const rec = await getClusterRecord(docker, killedRun);
    if (rec?.backupState === 'IN_PROGRESS') await updateClusterRecord(docker, { ...rec, backupState: 'FAILED', shortError: 'simulated killed run (test)', completed_at: new Date().toISOString() });
  }
});
