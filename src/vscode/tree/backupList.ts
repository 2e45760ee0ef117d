/**
 * What the "Backups" group lists on each refresh, without `vscode` (tested against the real
 * cluster): records stuck IN_PROGRESS whose run is gone are first marked FAILED in the store
 * (reconcile.ts); then the merged history, newest first. Without a manager only local records
 * are listed, as they are (no lock to judge them by).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type Docker from 'dockerode';
import type { ClusterConfig } from '../../core/config';
import { describeError } from '../../core/errors';
import { listHistory } from '../../core/history/backupHistory';
import { LocalHistory } from '../../core/history/localHistory';
import type { BackupRecord, MalformedRecord } from '../../core/history/record';
import { markInterrupted, reconcileInterrupted } from '../../core/history/reconcile';
import { readLock } from '../../core/lock/clusterLock';
import { sortBackups, type BackupFacts } from './presentation';

export async function loadBackupList(cluster: ClusterConfig, docker: Docker | undefined, log: (level: 'info' | 'warn', line: string) => void = () => undefined, local = new LocalHistory()): Promise<BackupRecord[]> {
  return (await loadBackupHistory(cluster, docker, log, local)).records;
}

/** The list and the malformed records beside it (the tree shows those as warnings, never fails on them). */
export async function loadBackupHistory(cluster: ClusterConfig, docker: Docker | undefined, log: (level: 'info' | 'warn', line: string) => void = () => undefined, local = new LocalHistory()): Promise<{ records: BackupRecord[]; malformed: MalformedRecord[] }> {
  for (const r of await local.list(cluster.name).catch(() => [])) writtenHere.add(r.id);
  if (!docker) return { records: sortBackups(await listHistory(cluster, undefined, local).then((h) => h.records)), malformed: [] };
  // The lock is read before the records (see reconcile.ts), so the in-memory marking below
  // is right even when storing it failed (e.g. a manager refused the update).
  const lock = await readLock(docker).catch(() => undefined);
  try {
    for (const r of await reconcileInterrupted(docker, local)) log('info', `Backup ${r.id} (${r.fileName}) was interrupted: marked FAILED.`);
  } catch (err) {
    log('warn', `Could not mark interrupted backups of ${cluster.name}: ${describeError(err)}`);
  }
  const { records, malformed } = await listHistory(cluster, docker, local);
  for (const m of malformed) log('warn', `Skipped a malformed backup record: ${m.source}: ${m.problem}`);
  return { records: sortBackups(markInterrupted(records, lock)), malformed };
}

/**
 * Local-file backups recorded by this machine (its local history, read with each list): only
 * their paths mean anything here; another admin's local backup is on their machine.
 */
const writtenHere = new Set<string>();

/** For tests: a local record as this machine's own. */
export function markWrittenHere(id: string): void {
  writtenHere.add(id);
}

/**
 * What this machine can tell about a record at once: a local SUCCESS archive that is no longer
 * at its path (moved or deleted by hand). A host-path file is only looked at when opened.
 */
export function localFileFacts(r: BackupRecord): BackupFacts {
  if (r.location !== 'local' || r.backupState !== 'SUCCESS' || !r.fileName || !writtenHere.has(r.id)) return {};
  return existsSync(join(r.backupPath, r.fileName)) ? {} : { fileMissing: true };
}
