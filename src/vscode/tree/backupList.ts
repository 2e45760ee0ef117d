/**
 * What the "Backups" group lists on each refresh, without `vscode` (tested against the real
 * cluster): records stuck IN_PROGRESS whose run is gone are first marked FAILED in the store
 * (reconcile.ts); then the merged history, newest first. Without a manager only local records
 * are listed, as they are (no lock to judge them by).
 */
import type Docker from 'dockerode';
import type { ClusterConfig } from '../../core/config';
import { describeError } from '../../core/errors';
import { listBackups } from '../../core/history/backupHistory';
import { LocalHistory } from '../../core/history/localHistory';
import type { BackupRecord } from '../../core/history/record';
import { markInterrupted, reconcileInterrupted } from '../../core/history/reconcile';
import { readLock } from '../../core/lock/clusterLock';
import { sortBackups } from './presentation';

export async function loadBackupList(cluster: ClusterConfig, docker: Docker | undefined, log: (level: 'info' | 'warn', line: string) => void = () => undefined, local = new LocalHistory()): Promise<BackupRecord[]> {
  if (!docker) return sortBackups(await listBackups(cluster, undefined, local));
  // The lock is read before the records (see reconcile.ts), so the in-memory marking below
  // is right even when storing it failed (e.g. a manager refused the update).
  const lock = await readLock(docker).catch(() => undefined);
  try {
    for (const r of await reconcileInterrupted(docker, local)) log('info', `Backup ${r.id} (${r.fileName}) was interrupted: marked FAILED.`);
  } catch (err) {
    log('warn', `Could not mark interrupted backups of ${cluster.name}: ${describeError(err)}`);
  }
  return sortBackups(markInterrupted(await listBackups(cluster, docker, local), lock));
}
