/**
 * How long a backup lock lives without renewal, and whether it has lapsed.
 *
 * The running backup renews its lock (a label update) every beat; a lock not renewed for its
 * lease is expired, and the next backup takes it over by itself (as MKE 4's lock does) instead
 * of waiting for someone to run break-lock. Expiry is judged on the swarm's clock — the lock
 * config's UpdatedAt, set by the managers, against the answering manager's own time — so a
 * laptop whose clock is off can neither expire a live lock nor keep a dead one.
 */
import { hostname } from 'node:os';

/** Six missed heartbeats: the owner is gone. */
export const STALE_AFTER_MS = 60_000;

/**
 * The lease: 60 s, or UCP_BACKUP_LOCK_STALE_MS (tests, and admins whose links need more
 * slack). A holder records its lease and its beat interval in the lock, and is never judged
 * before the longer of its lease and six of its beats.
 */
export function staleAfterMs(env: NodeJS.ProcessEnv = process.env): number {
  const v = Number(env.UCP_BACKUP_LOCK_STALE_MS);
  return Number.isFinite(v) && v > 0 ? v : STALE_AFTER_MS;
}

/** Beat six times per lease (at most every 10 s: each beat is a raft write). */
export function heartbeatMs(env: NodeJS.ProcessEnv = process.env): number {
  return Math.max(200, Math.min(10_000, Math.floor(staleAfterMs(env) / 6)));
}

export interface LeaseFacts {
  /** The holder's own clock, from its heartbeat label (shown to people; judged only loosely). */
  heartbeat: string;
  heartbeatMs?: number;
  leaseMs?: number;
  host: string;
  pid: number;
}

/** The lease this lock is judged by: the holder's, never shorter than ours or six of its beats. */
export function leaseOf(h: LeaseFacts): number {
  return Math.max(staleAfterMs(), h.leaseMs ?? 0, 6 * (h.heartbeatMs ?? 10_000));
}

/** Whether a process runs on this machine (signal 0 checks existence only; EPERM: another user's). */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export interface Verdict {
  /** Not renewed for its lease on the swarm's clock: the next backup takes it over. */
  expired: boolean;
  /** Looks dead (expired, no recent heartbeat, or its process is gone): break-lock removes it. */
  stale: boolean;
  reason?: string;
}

/**
 * `renewedAgoMs`: swarm time since the lock config was last written (undefined when the
 * manager did not tell). Expired only on that clock; stale also on ours or a gone process.
 */
export function judgeLease(h: LeaseFacts, renewedAgoMs: number | undefined, now = Date.now()): Verdict {
  const lease = leaseOf(h);
  if (renewedAgoMs !== undefined && renewedAgoMs > lease) {
    return { expired: true, stale: true, reason: `its lease expired: not renewed for ${Math.round(renewedAgoMs / 1000)} s (lease ${Math.round(lease / 1000)} s)` };
  }
  const beat = Date.parse(h.heartbeat);
  if (!Number.isFinite(beat) || now - beat > lease) {
    return { expired: false, stale: true, reason: `no heartbeat since ${h.heartbeat || 'ever'}` };
  }
  if (h.host === hostname() && h.pid > 0 && !pidAlive(h.pid)) {
    return { expired: false, stale: true, reason: `process ${h.pid} on ${h.host} is gone` };
  }
  return { expired: false, stale: false };
}
