/**
 * Backup Now's default file name, `<cluster>-ucp-backup-<time>.tar`. The name is proposed
 * before the prompts; when the admin kept it, it is stamped again as the backup starts and
 * that instant is the record's created_at, so the name and created_at say the same time.
 * Pure (unit-tested).
 */

/** 2024-05-01T11:55:07Z as it can stand in a file name: 2024-05-01T11-55-07Z. */
export function fileStamp(at: Date): string {
  return at.toISOString().replace(/\.\d{3}Z$/, 'Z').replace(/:/g, '-');
}

export function defaultBackupName(cluster: string, at: Date): string {
  return `${cluster}-ucp-backup-${fileStamp(at)}.tar`;
}

/**
 * The name to write and the created_at to record, as the backup starts at `now`: a kept
 * default name gets `now` (to the second, which is then created_at exactly); a name the admin
 * typed is theirs, and created_at is left to the engine.
 */
export function stampAtStart(chosen: string, proposed: string, cluster: string, now: Date): { fileName: string; createdAt?: string } {
  if (chosen !== proposed) return { fileName: chosen };
  const at = new Date(Math.floor(now.getTime() / 1000) * 1000);
  return { fileName: defaultBackupName(cluster, at), createdAt: at.toISOString() };
}
