/**
 * "UCP: Break Stale Backup Lock" without `vscode` (unit- and cluster-tested): what to ask
 * the admin for the current lock, and the break itself, which only ever removes a stale lock.
 * A live lock (fresh heartbeat) belongs to a running backup: breaking it would let two
 * backups run at once, which UCP does not support (spec), so the command refuses; the CLI's
 * `break-lock --force` stays the deliberate way out.
 */
import type Docker from 'dockerode';
import { breakLock, type LockInfo } from '../core/lock/clusterLock';

export type LockPlan =
  | { kind: 'free'; message: string }
  | { kind: 'live'; lock: LockInfo; message: string }
  | { kind: 'stale'; lock: LockInfo; question: string; detail: string };

export function describeHolder(lock: LockInfo): string {
  return `Backup ${lock.backupId} by ${lock.owner} on ${lock.host} (node ${lock.node}), since ${lock.since}, last heartbeat ${lock.heartbeat}.`;
}

export function planLockBreak(cluster: string, lock: LockInfo | undefined): LockPlan {
  if (!lock) return { kind: 'free', message: `No backup lock is held in cluster ${cluster}.` };
  if (!lock.stale) {
    return { kind: 'live', lock, message: `A backup is running in ${cluster}; its lock was not touched. ${describeHolder(lock)}` };
  }
  return { kind: 'stale', lock, question: `Break the stale backup lock of ${cluster}?`, detail: `${describeHolder(lock)}\n${lock.staleReason ?? ''}\nIts record will be marked FAILED.` };
}

/**
 * Breaks the lock only if it is still stale (breakLock reads it again and refuses a live one
 * with BackupRunningError), e.g. when its owner came back while the admin was deciding.
 */
export function breakStale(docker: Docker): Promise<LockInfo | undefined> {
  return breakLock(docker, { force: false });
}
