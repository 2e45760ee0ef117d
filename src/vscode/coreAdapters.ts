/**
 * The core operations the UI's commands call, gathered so the flows import one module:
 * reading, downloading and deleting a host-path backup (src/core/docker/hostFiles),
 * verifying and comparing backups (src/core/verify).
 */
import type Docker from 'dockerode';
import { deleteBackupFiles, downloadHostFile } from '../core/docker/hostFiles';
import { removeClusterRecord } from '../core/history/clusterHistory';
import { LocalHistory } from '../core/history/localHistory';
import type { BackupRecord } from '../core/history/record';
import type { ProgressSink } from '../core/progress';

export { openHostFile } from '../core/docker/hostFiles';
export { verifyBackup, type VerifySource, type VerifyOptions } from '../core/verify/verify';
export { diffBackups, type BackupDiff } from '../core/verify/diff';

/** Streams backupPath/fileName from nodeLocation to a local file, with progress. */
export function downloadBackup(docker: Docker, record: BackupRecord, localPath: string, opts: { signal?: AbortSignal; onProgress?: ProgressSink }): Promise<void> {
  return downloadHostFile(docker, record, localPath, opts);
}

/** Removes the archive, its log and the record (cluster + local history). */
export function deleteBackup(docker: Docker | undefined, record: BackupRecord): Promise<void> {
  return deleteBackupFiles(docker, record);
}

/** Removes only the record (cluster + local history), never a file: Forget Backup, Clear Failed Records. */
export async function forgetRecord(docker: Docker | undefined, record: BackupRecord): Promise<void> {
  if (docker) await removeClusterRecord(docker, record.id);
  await new LocalHistory().remove(record.id);
}
