/**
 * One history for a cluster reached both ways: the records UCP's API lists
 * (GET /api/ucp/backups) and the ones this extension keeps (swarm configs and this machine),
 * deduplicated by backup ID, each with where it came from. No `vscode` import (unit-tested).
 */
import type { CheckedBackupRecord, UcpBackupRecord } from '../../core/api/schema';
import type { BackupRecord } from '../../core/history/record';
import { sortBackups } from '../tree/presentation';

/** 'api': listed by UCP's API only; 'ssh': by this extension's history only; 'both'. */
export type BackupSource = 'api' | 'ssh' | 'both';

export interface MergedBackup {
  record: BackupRecord;
  source: BackupSource;
  /** Fields the API record lacked (shown as "not sent by UCP") and ones a newer UCP added. */
  missingFields: string[];
  newFields: string[];
}

/**
 * Records are objects the tree hands back to commands, so the source rides along beside them
 * (a WeakMap) instead of a field that would end up in the details view as record data.
 */
const sources = new WeakMap<BackupRecord, MergedBackup>();

export function mergedInfo(record: BackupRecord): MergedBackup | undefined {
  return sources.get(record);
}

/** Of two states of the same backup, a finished one is newer news than IN_PROGRESS. */
function laterState(a: BackupRecord, b: BackupRecord): BackupRecord {
  if (a.backupState === 'IN_PROGRESS' && b.backupState !== 'IN_PROGRESS') return b;
  return a;
}

/**
 * Merges, newest first. For an ID in both lists our record is the base (it knows size,
 * SHA-256 and where the file is); UCP's fields it lacks are added, and a state that finished
 * on either side wins over IN_PROGRESS (with that side's completion time and error).
 */
export function mergeHistories(ssh: readonly BackupRecord[], api: readonly CheckedBackupRecord[]): MergedBackup[] {
  const byId = new Map<string, MergedBackup>();
  for (const r of ssh) byId.set(r.id, { record: r, source: 'ssh', missingFields: [], newFields: [] });
  for (const c of api) {
    const ours = byId.get(c.record.id);
    if (!ours) {
      byId.set(c.record.id, { record: c.record, source: 'api', missingFields: c.missingFields, newFields: c.newFields });
      continue;
    }
    const theirs: UcpBackupRecord = c.record;
    const final = laterState(ours.record, theirs);
    const record: BackupRecord = { ...theirs, ...ours.record };
    if (final === theirs) {
      record.backupState = theirs.backupState;
      record.completed_at = theirs.completed_at;
      record.shortError = theirs.shortError;
    }
    byId.set(c.record.id, { record, source: 'both', missingFields: [], newFields: c.newFields });
  }
  const merged = [...byId.values()];
  const order = new Map(sortBackups(merged.map((m) => m.record)).map((r, i) => [r, i]));
  merged.sort((a, b) => order.get(a.record)! - order.get(b.record)!);
  for (const m of merged) sources.set(m.record, m);
  return merged;
}

export const SOURCE_TEXT: Record<BackupSource, string> = {
  api: 'UCP API',
  ssh: 'SSH',
  both: 'UCP API + SSH',
};
