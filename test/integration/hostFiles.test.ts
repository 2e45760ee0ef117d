/**
 * The admin's actions on a finished backup, against the real test cluster: a backup kept in
 * a folder on a manager is verified where it lies and downloaded byte for byte; Delete
 * removes the archive, its log and the record — from the swarm and from the local history.
 * Waits out other teammates' backups (one cluster-wide lock).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type Docker from 'dockerode';
import { loadConfigFile, type ClusterConfig } from '../../src/core/config';
import { deleteBackupFiles, downloadHostFile, openHostFile } from '../../src/core/docker/hostFiles';
import { BackupRunningError } from '../../src/core/engine/errors';
import { runBackup, type BackupRequest } from '../../src/core/engine/runBackup';
import { getClusterRecord, listClusterRecords } from '../../src/core/history/clusterHistory';
import { LocalHistory } from '../../src/core/history/localHistory';
import type { BackupRecord } from '../../src/core/history/record';
import { readLock } from '../../src/core/lock/clusterLock';
import { SessionPool } from '../../src/core/ssh/sessionPool';
import { verifyBackup } from '../../src/core/verify/verify';
import { loadTestbed, testbedManager } from '../helpers/testbed';

const tb = loadTestbed();
const manager = testbedManager('manager2', tb);
const work = mkdtempSync(join(tmpdir(), 'ucp-host-files-'));
const local = new LocalHistory(join(work, 'state'));
const pool = new SessionPool();
let cluster: ClusterConfig;
let docker: Docker;
let record: BackupRecord;

/** Another teammate's backup may hold the one cluster lock: wait for it, as an admin would. */
async function backupWhenFree(destination: BackupRequest['destination']): Promise<BackupRecord> {
  for (let i = 0; ; i++) {
    while (await readLock(docker)) await new Promise((r) => setTimeout(r, 1000));
    try {
      return await runBackup({ destination, noPassphrase: true, includeLogs: true, engine: 'builtin' }, { docker, cluster, node: cluster.nodes.find((n) => n.name === 'manager2')!, localHistory: local });
    } catch (err) {
      if (!(err instanceof BackupRunningError) || i > 20) throw err;
    }
  }
}

before(async () => {
  cluster = (await loadConfigFile(tb.clustersFile)).clusters[0];
  docker = await pool.get(cluster.nodes.find((n) => n.name === 'manager2')!).docker();
  record = await backupWhenFree({ kind: 'host', hostPath: manager.backupDir, fileName: `host-files-${Date.now()}.tar` });
  assert.equal(record.backupState, 'SUCCESS');
});

after(() => pool.closeAll());

test('a backup in a folder on a manager is verified where it lies, without a copy', async () => {
  const report = await verifyBackup({ kind: 'stream', open: async () => (await openHostFile(docker, record)).stream, size: record.size, label: 'manager2 file' }, { fileSha256: true });
  assert.equal(report.verdict, 'VALID');
  assert.ok(report.entryCount >= 27);
  assert.ok(report.entries.some((e) => e.name === './ucp-controller-server-certs/key.pem'));
  assert.equal(report.sha256, record.sha256);
});

test('its log is read the same way', async () => {
  const { stream } = await openHostFile(docker, record, record.logFileName);
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  assert.match(Buffer.concat(chunks).toString('utf8'), /validation: cluster backup lock taken/);
});

test('Download copies the archive byte for byte and reports progress', async () => {
  const target = join(work, 'downloaded.tar');
  const seen: number[] = [];
  await downloadHostFile(docker, record, target, { onProgress: (ev) => seen.push(ev.bytes ?? 0) });
  const data = readFileSync(target);
  assert.equal(data.length, record.size);
  assert.equal(createHash('sha256').update(data).digest('hex'), record.sha256);
  assert.equal(seen.at(-1), record.size);
  assert.deepEqual(readdirSync(work).filter((n) => n.includes('.partial')), [], 'no partial file left');
});

test('Delete of a FAILED record never touches the good backup that has the same file name', async () => {
  // A second run to the same name is refused ("already exists") and ends FAILED with that name.
  await assert.rejects(backupWhenFree({ kind: 'host', hostPath: manager.backupDir, fileName: record.fileName }));
  const failed = (await listClusterRecords(docker)).find((r) => r.fileName === record.fileName && r.backupState === 'FAILED');
  assert.ok(failed, 'the refused run left a FAILED record');
  await deleteBackupFiles(docker, failed, local);
  assert.equal(await getClusterRecord(docker, failed.id), undefined, 'the FAILED record is gone');
  assert.ok(existsSync(join(manager.backupDir, record.fileName)), 'the good archive is still there');
  assert.ok(existsSync(join(manager.backupDir, record.logFileName)), 'and its log');
});

test('Delete of a host-path backup removes the archive, its log and the record', async () => {
  const onHost = join(manager.backupDir, record.fileName);
  assert.ok(existsSync(onHost), `${onHost} exists before`);
  assert.ok(existsSync(join(manager.backupDir, record.logFileName)));
  await deleteBackupFiles(docker, record, local);
  assert.ok(!existsSync(onHost));
  assert.ok(!existsSync(join(manager.backupDir, record.logFileName)));
  assert.ok(!(await listClusterRecords(docker)).some((r) => r.id === record.id));
  await assert.rejects(openHostFile(docker, record), /is not on manager2/);
});

test('Delete of a local-file backup removes the file, its log, the cluster record and the local history entry', async () => {
  const mine = await backupWhenFree({ kind: 'local', path: join(work, 'local-delete.tar') });
  const file = join(mine.backupPath, mine.fileName);
  const log = join(mine.backupPath, mine.logFileName);
  assert.ok(existsSync(file) && existsSync(log));
  assert.ok((await local.list()).some((r) => r.id === mine.id));
  assert.ok(await getClusterRecord(docker, mine.id));
  await deleteBackupFiles(docker, mine, local);
  assert.ok(!existsSync(file), 'archive removed');
  assert.ok(!existsSync(log), 'log removed');
  assert.equal(await getClusterRecord(docker, mine.id), undefined);
  assert.ok(!(await local.list()).some((r) => r.id === mine.id), 'local history entry removed');
});
