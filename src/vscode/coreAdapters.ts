/**
 * Core operations the UI uses, in one place. Those still being written by teammates are typed
 * as the named core API will be; until it lands it refuses with a clear error (never a
 * fake result). Replace the bodies with the core imports when they exist.
 */
import type { Readable } from 'node:stream';
import type Docker from 'dockerode';
import type { ClusterConfig } from '../core/config';
import { UcpError } from '../core/errors';
import type { BackupRecord } from '../core/history/record';
import type { ProgressSink } from '../core/progress';

export { verifyBackup, type VerifySource, type VerifyOptions } from '../core/verify/verify';
export { diffBackups, type BackupDiff } from '../core/verify/diff';

class NotBuiltYetError extends UcpError {
  constructor(what: string) {
    super(`${what} is not available in this build yet.`, 'Update the extension; the core part it needs is still being built.');
  }
}

// TODO(core read host file): a Readable of backupPath/fileName on nodeLocation, for
// verifying and downloading host-path backups without copying them first.
export async function openHostFile(_docker: Docker, _record: BackupRecord): Promise<Readable> {
  throw new NotBuiltYetError('Reading a backup on a node');
}

// TODO(core history delete): remove the archive, its log and the record (cluster + local).
export async function deleteBackup(_cluster: ClusterConfig, _docker: Docker | undefined, _record: BackupRecord): Promise<void> {
  throw new NotBuiltYetError('Delete');
}

// TODO(core download): stream backupPath/fileName from nodeLocation to a local file.
export async function downloadBackup(_docker: Docker, _record: BackupRecord, _localPath: string, _opts: { signal?: AbortSignal; onProgress?: ProgressSink }): Promise<void> {
  throw new NotBuiltYetError('Download');
}
