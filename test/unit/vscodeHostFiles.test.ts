/**
 * The admin's actions on a backup kept in a folder on a manager, as the VS Code commands do
 * them (src/vscode/coreAdapters.ts) against the real test cluster: verify it where it lies,
 * download it (same bytes as recorded), delete it (archive, log and record gone).
 * Needs the test cluster (like the integration tests); waits out other teammates' backups.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type Docker from 'dockerode';
import { loadConfigFile, type ClusterConfig } from '../../src/core/config';
import { BackupRunningError } from '../../src/core/engine/errors';
import { runBackup } from '../../src/core/engine/runBackup';
import { listClusterRecords } from '../../src/core/history/clusterHistory';
import type { BackupRecord } from '../../src/core/history/record';
import { readLock } from '../../src/core/lock/clusterLock';
import { SessionPool } from '../../src/core/ssh/sessionPool';
import { verifyBackup } from '../../src/core/verify/verify';
import { deleteBackup, downloadBackup, openHostFile } from '../../src/vscode/coreAdapters';
import { loadTestbed, testbedManager } from '../helpers/testbed';

const tb = loadTestbed();
const manager = testbedManager('manager2', tb);
const work = mkdtempSync(join(tmpdir(), 'ucp-vscode-host-'));
process.env.UCP_BACKUP_STATE_DIR = join(work, 'state');
const pool = new SessionPool();
let cluster: ClusterConfig;
let docker: Docker;
let record: BackupRecord;

/** Another teammate's backup may hold the one cluster lock: wait for it, as an admin would. */
async function backupWhenFree(): Promise<BackupRecord> {
  const fileName = `vscode-host-${Date.now()}.tar`;
  for (let i = 0; ; i++) {
    while (await readLock(docker)) await new Promise((r) => setTimeout(r, 1000));
    try {
      return await runBackup({ destination: { kind: 'host', hostPath: manager.backupDir, fileName }, noPassphrase: true, includeLogs: true, engine: 'builtin' }, { docker, cluster, node: cluster.nodes.find((n) => n.name === 'manager2')! });
    } catch (err) {
      if (!(err instanceof BackupRunningError) || i > 20) throw err;
    }
  }
}

before(async () => {
  cluster = (await loadConfigFile(tb.clustersFile)).clusters[0];
  docker = await pool.get(cluster.nodes.find((n) => n.name === 'manager2')!).docker();
  record = await backupWhenFree();
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

test('Download copies the archive byte for byte and reports progress', async () => {
  const target = join(work, 'downloaded.tar');
  const seen: number[] = [];
  await downloadBackup(docker, record, target, { onProgress: (ev) => seen.push(ev.bytes ?? 0) });
  const data = readFileSync(target);
  assert.equal(data.length, record.size);
  assert.equal(createHash('sha256').update(data).digest('hex'), record.sha256);
  assert.equal(seen.at(-1), record.size);
});

test('Delete removes the archive, its log and the record', async () => {
  const onHost = join(manager.backupDir, record.fileName);
  assert.ok(existsSync(onHost), `${onHost} exists before`);
  assert.ok(existsSync(join(manager.backupDir, record.logFileName)));
  await deleteBackup(docker, record);
  assert.ok(!existsSync(onHost));
  assert.ok(!existsSync(join(manager.backupDir, record.logFileName)));
  assert.ok(!(await listClusterRecords(docker)).some((r) => r.id === record.id));
  await assert.rejects(openHostFile(docker, record), /is not on manager2/);
});
