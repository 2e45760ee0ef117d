/**
 * What an interrupted copy leaves: a run killed mid-transfer (SIGKILL, power loss) cannot
 * remove its `.<name>.partial-<8 hex>` file (folder, SFTP) or abort its S3 multipart upload
 * (invisible, but stored and billed). The next copy to the same place removes such leftovers
 * once they are older than any copy still running could be — 24 h by default
 * (UCP_BACKUP_STALE_PARTIAL_MS changes it) — so a copy another machine is writing right now
 * is never touched. Hidden partials never look like a backup: only complete, checked files
 * get the archive's name.
 */
export const DEFAULT_STALE_PARTIAL_MS = 24 * 3600_000;

const PARTIAL = /^\..+\.partial-[0-9a-f]{8}$/;

export function staleAgeMs(env: NodeJS.ProcessEnv = process.env): number {
  const v = Number(env.UCP_BACKUP_STALE_PARTIAL_MS);
  return Number.isFinite(v) && v >= 0 && env.UCP_BACKUP_STALE_PARTIAL_MS !== '' && env.UCP_BACKUP_STALE_PARTIAL_MS !== undefined ? v : DEFAULT_STALE_PARTIAL_MS;
}

/** A temp file of ours (any archive's) whose last write is older than the stale age. */
export function isStalePartial(name: string, modifiedMs: number, now = Date.now(), ageMs = staleAgeMs()): boolean {
  return PARTIAL.test(name) && now - modifiedMs > ageMs;
}
