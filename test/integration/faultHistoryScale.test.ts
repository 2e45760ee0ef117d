/**
 * The history at scale: 10 backups in a row (a cron job's days), then 500 records in the swarm.
 * Every run succeeds and is recorded once; `list --json` and the tree's list (loadBackupHistory,
 * what the Backups group shows) hold every record exactly once, newest first, and the tree shows
 * the newest 50 with a "more" row. Times are printed, not asserted (a noisy machine).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { runCli } from '../helpers/cli';
import { SessionPool } from '../../src/core/ssh/sessionPool';
import { createClusterRecord, removeClusterRecord } from '../../src/core/history/clusterHistory';
import { LocalHistory } from '../../src/core/history/localHistory';
import type { BackupRecord } from '../../src/core/history/record';
import { runBackup } from '../../src/core/engine/runBackup';
import { loadConfigFile } from '../../src/core/config';
import { loadBackupHistory } from '../../src/vscode/tree/backupList';
import { capBackups, DEFAULT_MAX_BACKUPS_SHOWN } from '../../src/vscode/tree/presentation';
import { CONFIG, sshDocker, waitForNoLock, workDir } from './backupKit';

const pool = new SessionPool();
const { dir } = workDir('ucp-backup-scale-');
const env = { UCP_BACKUP_STATE_DIR: join(dir, 'state') };
const local = new LocalHistory(join(dir, 'state'));
const seeded: string[] = [];
const ran: BackupRecord[] = [];

before(async () => waitForNoLock(await sshDocker(pool, 'manager2')));

after(async () => {
  const docker = await sshDocker(pool, 'manager2');
  for (const id of seeded) await removeClusterRecord(docker, id).catch(() => undefined);
  pool.closeAll();
  rmSync(dir, { recursive: true, force: true });
});

/** Real backups in a row; the rest of the 500 records are written to the swarm directly. */
const ROW = 10;

test('10 backups in a row: each succeeds and is recorded once, newest first', async () => {
  const cluster = (await loadConfigFile(CONFIG)).clusters[0];
  const docker = await sshDocker(pool, 'manager2');
  const node = cluster.nodes.find((n) => n.name === 'manager2')!;
  const started = Date.now();
  for (let i = 0; i < ROW; i++) {
    const r = await runBackup({ destination: { kind: 'local', path: join(dir, `row-${i}.tar`) }, noPassphrase: true, includeLogs: false, engine: 'builtin' }, { docker, cluster, node, localHistory: local });
    assert.equal(r.backupState, 'SUCCESS', `run ${i}: ${r.shortError}`);
    ran.push(r);
  }
  console.log(`# ${ROW} backups in a row: ${Date.now() - started} ms`);
  const list = JSON.parse((await runCli(['list', '--config', CONFIG, '--json'], { env })).stdout) as BackupRecord[];
  const ours = list.filter((r) => ran.some((x) => x.id === r.id));
  assert.equal(ours.length, ROW, 'each run listed exactly once');
  assert.deepEqual(ours.map((r) => r.id), [...ran].reverse().map((r) => r.id), 'newest first');
  assert.ok(ours.every((r) => r.backupState === 'SUCCESS'));
});

test('500 records: list --json and the tree list every one once, newest first; the tree shows the newest 50 and a "more" row', async () => {
  const cluster = (await loadConfigFile(CONFIG)).clusters[0];
  const docker = await sshDocker(pool, 'manager2');
  const template = ran[0];
  const base = Date.parse('2026-01-01T00:00:00Z');
  const t0 = Date.now();
  for (let i = 0; i < 500 - ROW; i++) {
    const at = new Date(base + i * 3600_000).toISOString();
    const id = randomUUID();
    await createClusterRecord(docker, { ...template, id, fileName: `seed-${i}.tar`, created_at: at, completed_at: at });
    seeded.push(id);
  }
  console.log(`# ${500 - ROW} records written to the swarm: ${Date.now() - t0} ms`);
  const mine = new Set([...seeded, ...ran.map((r) => r.id)]);

  const t1 = Date.now();
  const cli = await runCli(['list', '--config', CONFIG, '--json'], { env });
  const cliMs = Date.now() - t1;
  assert.equal(cli.code, 0, cli.stderr);
  const listed = (JSON.parse(cli.stdout) as BackupRecord[]).filter((r) => mine.has(r.id));
  assert.equal(listed.length, 500);
  assert.equal(new Set(listed.map((r) => r.id)).size, 500, 'no record twice');

  const t2 = Date.now();
  const { records, malformed } = await loadBackupHistory(cluster, docker, () => undefined, local);
  const treeMs = Date.now() - t2;
  assert.deepEqual(malformed, []);
  const inTree = records.filter((r) => mine.has(r.id));
  assert.equal(inTree.length, 500);
  assert.equal(new Set(inTree.map((r) => r.id)).size, 500, 'no record twice');
  const times = inTree.map((r) => Date.parse(r.created_at));
  assert.ok(times.every((t, i) => i === 0 || times[i - 1] >= t), 'newest first');
  assert.equal(inTree[0].id, ran[ran.length - 1].id, 'the newest real backup on top');
  const { shown, rest } = capBackups(records);
  assert.equal(shown.length, DEFAULT_MAX_BACKUPS_SHOWN);
  assert.equal(rest.length, records.length - DEFAULT_MAX_BACKUPS_SHOWN);
  console.log(`# ${records.length} records: list --json (a new process, SSH included) ${cliMs} ms; the tree's list on an open connection ${treeMs} ms`);
});
