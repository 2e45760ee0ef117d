/**
 * Tidying the history without touching any archive: "UCP: Forget Backup" drops the record of a
 * backup whose file is gone; "UCP: Clear Failed Records" drops the records of runs that gave
 * no archive (failed, cancelled, never started). Both confirm first, in a modal.
 */
import * as vscode from 'vscode';
import type { ClusterConfig } from '../../core/config';
import { listBackups } from '../../core/history/backupHistory';
import type { BackupRecord } from '../../core/history/record';
import { forgetRecord } from '../coreAdapters';
import { showError } from '../log';
import type { Services } from '../services';
import { localFileFacts } from '../tree/backupList';
import { backupKind } from '../tree/presentation';
import type { BackupTreeProvider, UcpNode } from '../tree/provider';
import { labelOf } from './backupAccess';
import { pickCluster } from './pick';

export const FORGET_BUTTON = 'Forget';
export const CLEAR_BUTTON = 'Clear';

async function clusterDocker(services: Services, cluster: ClusterConfig) {
  return (await services.anyManagerDocker(cluster).catch(() => undefined))?.docker;
}

/** "Forget Backup" on a row whose file is missing: the record goes, nothing else is touched. */
export async function forgetBackup(services: Services, tree: BackupTreeProvider, arg?: UcpNode): Promise<void> {
  if (arg?.kind !== 'backup') {
    void vscode.window.showInformationMessage('Right-click a backup marked "file missing" in the UCP Backup view to forget it.');
    return;
  }
  const { record, cluster } = arg;
  const answer = await vscode.window.showWarningMessage(
    `Forget backup ${record.fileName || record.id}?`,
    { modal: true, detail: `Its record is removed from the history of ${cluster.name}. No file is deleted: ${labelOf(record)} is not there any more.` },
    FORGET_BUTTON,
  );
  if (answer !== FORGET_BUTTON) return;
  try {
    await forgetRecord(await clusterDocker(services, cluster), record);
    services.log.info(`Forgot backup ${record.id} (${labelOf(record)}): its file was missing.`);
    void vscode.window.showInformationMessage(`Forgot ${record.fileName || record.id}.`);
  } catch (err) {
    await showError(services.log, `Cannot forget ${record.fileName}`, err);
  } finally {
    tree.refreshBackups();
  }
}

/** What a cleared record was, for the confirmation ("3 failed, 1 cancelled, 2 not started"). */
export function failedBreakdown(records: readonly BackupRecord[]): string {
  const counts = { failed: 0, cancelled: 0, refused: 0 };
  for (const r of records) {
    const k = backupKind(r, localFileFacts(r));
    if (k === 'failed' || k === 'cancelled' || k === 'refused') counts[k]++;
  }
  return [counts.failed && `${counts.failed} failed`, counts.cancelled && `${counts.cancelled} cancelled`, counts.refused && `${counts.refused} not started (another backup was running)`].filter(Boolean).join(', ');
}

export async function clearFailedRecords(services: Services, tree: BackupTreeProvider, arg?: UcpNode): Promise<void> {
  const cluster = arg && 'cluster' in arg ? arg.cluster : await pickCluster(services);
  if (!cluster) return;
  try {
    const docker = await clusterDocker(services, cluster);
    const failed = (await listBackups(cluster, docker)).filter((r) => r.backupState === 'FAILED');
    if (failed.length === 0) {
      void vscode.window.showInformationMessage(`Cluster ${cluster.name} has no failed backup records.`);
      return;
    }
    const answer = await vscode.window.showWarningMessage(
      `Clear ${failed.length} failed backup record${failed.length === 1 ? '' : 's'} of ${cluster.name}?`,
      { modal: true, detail: `${failedBreakdown(failed)}. Only the records go: a failed run left no archive, and no backup file is touched.${docker ? '' : ' No manager is reachable: only the records kept on this machine are cleared.'}` },
      CLEAR_BUTTON,
    );
    if (answer !== CLEAR_BUTTON) return;
    for (const r of failed) await forgetRecord(docker, r);
    services.log.info(`Cleared ${failed.length} failed backup record(s) of ${cluster.name}.`);
    void vscode.window.showInformationMessage(`Cleared ${failed.length} failed backup record${failed.length === 1 ? '' : 's'} of ${cluster.name}.`);
  } catch (err) {
    await showError(services.log, `Cannot clear the failed records of ${cluster.name}`, err);
  } finally {
    tree.refreshBackups();
  }
}
