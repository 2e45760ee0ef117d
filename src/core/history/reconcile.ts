/**
 * A record stays IN_PROGRESS when its run was killed (window closed, machine slept, crash):
 * nothing else ever ends it. A run holds the cluster lock under its backup id for as long as
 * it lives (clusterLock.ts), so an IN_PROGRESS record whose id holds no lock belongs to a run
 * that is gone. `reconcileInterrupted` marks those FAILED in the store, like breakLock does
 * for a stale lock's record.
 */
import type Docker from 'dockerode';
import { readLock, type LockInfo } from '../lock/clusterLock';
import { getClusterRecord, listClusterRecords, updateClusterRecord } from './clusterHistory';
import { LocalHistory } from './localHistory';
import type { BackupRecord } from './record';

export const INTERRUPTED_ERROR = 'interrupted: the run ended without finishing';

/**
 * runBackup creates its record a moment before it takes the lock (runBackup.ts), and clocks
 * of admins' machines differ: a record younger than this is never judged.
 */
export const RECONCILE_GRACE_MS = 2 * 60_000;

/** What reconciling judges a record by: the lock's holder and, when it is the record's, its lease. */
export type LockFacts = Pick<LockInfo, 'backupId'> & Partial<Pick<LockInfo, 'expired' | 'stale' | 'staleReason'>>;

/**
 * Whether the run of an IN_PROGRESS record is gone: no lock under its id and not brand new, or
 * the lock under its id expired (its run stopped renewing it: killed, frozen or cut off; a
 * live run renews it every beat, so no grace is needed for it).
 */
export function isInterrupted(record: BackupRecord, lock: LockFacts | undefined, now = Date.now()): boolean {
  if (record.backupState !== 'IN_PROGRESS') return false;
  if (lock?.backupId === record.id) return lock.expired === true;
  const created = Date.parse(record.created_at);
  return Number.isFinite(created) && now - created > RECONCILE_GRACE_MS;
}

/** Why an interrupted record ended, as its shortError says. */
function interruptedError(record: BackupRecord, lock: LockFacts | undefined): string {
  if (lock?.backupId === record.id && lock.expired) return `interrupted: its run stopped renewing the cluster lock (${lock.staleReason ?? 'lease expired'}); it was killed or lost its link`;
  return INTERRUPTED_ERROR;
}

/** The record as the store will say after reconciling: FAILED, with why. */
export function asInterrupted(record: BackupRecord, now = Date.now(), lock?: LockFacts): BackupRecord {
  return { ...record, backupState: 'FAILED', shortError: interruptedError(record, lock), completed_at: new Date(now).toISOString() };
}

/**
 * A running record whose lock looks dead before its lease is up (its process on this machine
 * is gone, or no heartbeat): what the tree says beside "in progress" until the lease lapses.
 */
export function notRespondingReason(record: BackupRecord, lock: LockFacts | undefined): string | undefined {
  if (record.backupState !== 'IN_PROGRESS' || lock?.backupId !== record.id || lock.expired || !lock.stale) return undefined;
  return `not responding: ${lock.staleReason ?? 'its lock looks stale'}; its lock expires by itself, or break it`;
}

/** The list with interrupted records shown as they will be stored (for a view that cannot write). */
export function markInterrupted(records: readonly BackupRecord[], lock: LockFacts | undefined, now = Date.now()): BackupRecord[] {
  return records.map((r) => {
    if (isInterrupted(r, lock, now)) return asInterrupted(r, now, lock);
    const reason = notRespondingReason(r, lock);
    return reason ? { ...r, shortError: reason } : r;
  });
}

/**
 * Marks the interrupted records FAILED in the swarm and, for local-file backups, in the
 * local history. The lock is read BEFORE the records: a run that ends in between has already
 * stored its final state (runBackup saves the record, then releases the lock). Each record is
 * read again just before it is written, so a run finishing meanwhile is not overwritten.
 * Returns the records it marked.
 */
export async function reconcileInterrupted(docker: Docker, local = new LocalHistory(), now = Date.now()): Promise<BackupRecord[]> {
  const lock = await readLock(docker);
  const candidates = (await listClusterRecords(docker)).filter((r) => isInterrupted(r, lock, now));
  const marked: BackupRecord[] = [];
  for (const stale of candidates) {
    const fresh = await getClusterRecord(docker, stale.id);
    if (!fresh || !isInterrupted(fresh, lock, now)) continue;
    const failed = asInterrupted(fresh, now, lock);
    await updateClusterRecord(docker, failed);
    if (failed.location === 'local') await local.put(failed);
    marked.push(failed);
  }
  return marked;
}
