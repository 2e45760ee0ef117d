/**
 * One backup at a time, cluster-wide (the spec: "More than one backup at the same time is not
 * supported"). The lock is a swarm config named `ucp-backup.lock`: swarm refuses a second
 * config of the same name (409), so creating it is an atomic test-and-set that every manager
 * and every admin sees. Config data is immutable but labels may be updated (with the object's
 * version for optimistic concurrency), so the heartbeat lives in a label and renews the lock's
 * lease (lease.ts): a lock left by a crashed run expires by itself and the next backup takes it
 * over; break-lock stays for a lock that looks dead before its lease is up.
 */
import { hostname, userInfo } from 'node:os';
import type Docker from 'dockerode';
import { BackupRunningError, StaleLockError } from '../engine/errors';
import { dockerMessage, statusCode } from '../engine/dockerStreams';
import { UcpError } from '../errors';
import { getClusterRecord, knownLeaderless, updateClusterRecord } from '../history/clusterHistory';
import type { LocalHistory } from '../history/localHistory';
import { heartbeatMs, judgeLease, staleAfterMs } from './lease';

export const LOCK_NAME = 'ucp-backup.lock';
const P = 'com.ucp-backup.lock.';
export { STALE_AFTER_MS, staleAfterMs, heartbeatMs } from './lease';

export interface LockHolder {
  backupId: string;
  owner: string;
  host: string;
  pid: number;
  node: string;
  since: string;
  heartbeat: string;
  /** The holder's beat interval: its lock is judged against six of them at least. */
  heartbeatMs?: number;
  /** How long the holder's lock lives without renewal. */
  leaseMs?: number;
}

export interface LockInfo extends LockHolder {
  configId: string;
  stale: boolean;
  /** Its lease ran out (swarm clock): the next backup takes it over by itself. */
  expired: boolean;
  staleReason?: string;
}

function labelsOf(h: LockHolder): Record<string, string> {
  return {
    [`${P}backupId`]: h.backupId,
    [`${P}owner`]: h.owner,
    [`${P}host`]: h.host,
    [`${P}pid`]: String(h.pid),
    [`${P}node`]: h.node,
    [`${P}since`]: h.since,
    [`${P}heartbeat`]: h.heartbeat,
    [`${P}heartbeatMs`]: String(h.heartbeatMs),
    [`${P}leaseMs`]: String(h.leaseMs),
  };
}

function holderOf(labels: Record<string, string> | undefined): LockHolder {
  const l = labels ?? {};
  return {
    backupId: l[`${P}backupId`] ?? '',
    owner: l[`${P}owner`] ?? 'unknown',
    host: l[`${P}host`] ?? 'unknown',
    pid: Number(l[`${P}pid`] ?? 0),
    node: l[`${P}node`] ?? 'unknown',
    since: l[`${P}since`] ?? 'unknown',
    heartbeat: l[`${P}heartbeat`] ?? l[`${P}since`] ?? '',
    heartbeatMs: Number(l[`${P}heartbeatMs`]) || 10_000,
    leaseMs: Number(l[`${P}leaseMs`]) || undefined,
  };
}

/** The current lock, or undefined when no backup holds it. */
export async function readLock(docker: Docker): Promise<LockInfo | undefined> {
  const list = await docker.listConfigs({ filters: { name: [LOCK_NAME] } });
  const cfg = list.find((c) => c.Spec?.Name === LOCK_NAME);
  if (!cfg) return undefined;
  const h = holderOf(cfg.Spec?.Labels);
  const j = judgeLease(h, await renewedAgoMs(docker, cfg));
  return { ...h, configId: cfg.ID, stale: j.stale, expired: j.expired, staleReason: j.reason };
}

/** Swarm time since the lock was created or last renewed; undefined when a clock is missing. */
async function renewedAgoMs(docker: Docker, cfg: { CreatedAt?: string; UpdatedAt?: string }): Promise<number | undefined> {
  const written = Math.max(Date.parse(cfg.UpdatedAt ?? '') || 0, Date.parse(cfg.CreatedAt ?? '') || 0);
  const info = (await docker.info().catch(() => undefined)) as { SystemTime?: string } | undefined;
  const now = Date.parse(info?.SystemTime ?? '');
  return written > 0 && Number.isFinite(now) ? Math.max(0, now - written) : undefined;
}

export interface AcquireOptions {
  backupId: string;
  node: string;
  owner?: string;
  /** Where to also end the local copy of a taken-over run's record. */
  localHistory?: LocalHistory;
  log?: (line: string) => void;
  /** Called once when the lock turns out to be gone (broken or taken over while we ran). */
  onLost?: (err: LockLostError) => void;
}

/** Our lock was removed while we ran: another backup may be running now; ours must not publish. */
export class LockLostError extends UcpError {
  constructor(detail: string) {
    super(
      `This backup lost the cluster backup lock (${detail}): another backup may have taken it over, so this one was stopped and nothing was published.`,
      'A run loses its lock when it could not renew it for its lease (a frozen process or link) or someone ran break-lock --force. Run the backup again.',
      1,
    );
  }
}

export class BackupLock {
  private timer?: NodeJS.Timeout;
  private beating?: Promise<void>;
  /** Set once the lock is found gone; the run stops and never publishes. */
  lost?: LockLostError;
  private constructor(
    private readonly docker: Docker,
    readonly configId: string,
    readonly holder: LockHolder,
    private readonly onLost?: (err: LockLostError) => void,
  ) {}

  /**
   * Takes the lock or fails at once with BackupRunningError ("another backup is running")
   * naming who/where/since; takes over a lock whose lease expired (its run is marked FAILED);
   * StaleLockError when the holder looks dead but its lease is not up yet.
   */
  static async acquire(docker: Docker, who: AcquireOptions, attempt = 0): Promise<BackupLock> {
    const now = new Date().toISOString();
    const holder: LockHolder = {
      backupId: who.backupId,
      owner: who.owner ?? `${userInfo().username}@${hostname()}`,
      host: hostname(),
      pid: process.pid,
      node: who.node,
      since: now,
      heartbeat: now,
      heartbeatMs: heartbeatMs(),
      leaseMs: staleAfterMs(),
    };
    try {
      // `_query: {}` keeps dockerode from also copying the body into the URL.
      const created = await docker.createConfig({
        _query: {},
        _body: {
          Name: LOCK_NAME,
          Labels: labelsOf(holder),
          Data: Buffer.from(JSON.stringify({ backupId: holder.backupId })).toString('base64'),
        },
      });
      const id = (created as unknown as { id: string }).id;
      const lock = new BackupLock(docker, id, holder, who.onLost);
      lock.startHeartbeat();
      return lock;
    } catch (err) {
      if (statusCode(err) !== 409) {
        throw new UcpError(`Could not take the cluster backup lock: ${dockerMessage(err)}`, 'Check that the node is a healthy swarm manager.', 1, { cause: err });
      }
    }
    const current = await readLock(docker);
    // Released, or taken over, between our create and our read: retry, still never waiting.
    // Two tries: a third 409 means others are racing for it, and one of them holds it now.
    if (!current && attempt < 2) return BackupLock.acquire(docker, who, attempt + 1);
    if (!current) throw new UcpError('Could not take the cluster backup lock: other backups were taking it at the same moment.', 'Run the backup again.', 3);
    if (current.expired && attempt < 2) {
      // Removed by its id: if another backup took it over first, this removes nothing of theirs.
      await removeConfig(docker, current.configId);
      await failInterruptedRecord(docker, current, `interrupted: its lock expired (${current.staleReason}) and was taken over by backup ${who.backupId}`, who.localHistory);
      who.log?.(`Took over the lock of ${current.owner} on ${current.host} (backup ${current.backupId || 'unknown'}, since ${current.since}): ${current.staleReason}`);
      return BackupLock.acquire(docker, who, attempt + 1);
    }
    if (current.stale) throw new StaleLockError(current, current.staleReason ?? 'stale');
    throw new BackupRunningError(current);
  }

  private startHeartbeat(): void {
    this.timer = setInterval(() => {
      this.beating = this.beat().catch(() => undefined);
    }, this.holder.heartbeatMs ?? heartbeatMs());
    this.timer.unref();
  }

  /**
   * Refreshes the heartbeat label, which renews the lease; data is immutable, labels are not
   * (POST /configs/{id}/update). A lock gone by its id was broken or taken over: we lost it.
   */
  private async beat(): Promise<void> {
    if (this.lost) return;
    const cfg = this.docker.getConfig(this.configId);
    const info = (await cfg.inspect().catch((err) => {
      if (statusCode(err) === 404) this.markLost('it was removed while this backup ran');
      throw err;
    })) as { Version: { Index: number }; Spec: { Name: string; Labels?: Record<string, string>; Data?: string } };
    const Labels = { ...(info.Spec.Labels ?? {}), [`${P}heartbeat`]: new Date().toISOString() };
    await cfg.update({ _query: { version: info.Version.Index }, _body: { ...info.Spec, Labels } });
  }

  private markLost(detail: string): void {
    if (this.lost) return;
    this.lost = new LockLostError(detail);
    this.onLost?.(this.lost);
  }

  /** Right before publishing: the lock is still ours (a frozen run may wake after losing it). */
  async assertHeld(): Promise<void> {
    if (!this.lost) {
      try {
        await this.docker.getConfig(this.configId).inspect();
      } catch (err) {
        if (statusCode(err) !== 404) throw err;
        this.markLost('it was removed while this backup ran');
      }
    }
    if (this.lost) throw this.lost;
  }

  /** Removes exactly our config (by id), so a lock someone else took after a break survives. */
  async release(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    // A swarm without a leader can neither renew nor remove the lock: each try would hang for
    // raft's 20 s. The lock then lapses with its lease, which the error already tells the admin.
    if (knownLeaderless(this.docker)) throw new UcpError('the swarm has no leader; the lock lapses with its lease', '', 1);
    await this.beating;
    if (!this.lost) await removeConfig(this.docker, this.configId);
  }
}

/**
 * Removes the lock explicitly. Without `force` only a stale lock is removed; a live one is
 * refused with BackupRunningError. Returns the lock that was removed.
 */
export async function breakLock(docker: Docker, opts: { force?: boolean; localHistory?: LocalHistory } = {}): Promise<LockInfo | undefined> {
  const current = await readLock(docker);
  if (!current) return undefined;
  if (!current.stale && !opts.force) {
    throw new BackupRunningError(current, 'That backup is alive (its heartbeat is fresh); it was not touched. Use --force only if you are sure it is not running.');
  }
  await removeConfig(docker, current.configId);
  await failInterruptedRecord(docker, current, `interrupted: its lock was broken (${current.stale ? current.staleReason : 'forced'})`, opts.localHistory);
  return current;
}

async function removeConfig(docker: Docker, id: string): Promise<void> {
  try {
    await docker.getConfig(id).remove();
  } catch (err) {
    if (statusCode(err) !== 404) throw err;
  }
}

/** The crashed run could not end its record: say in the history that it never finished. */
async function failInterruptedRecord(docker: Docker, lock: LockInfo, shortError: string, local?: LocalHistory): Promise<void> {
  const record = lock.backupId ? await getClusterRecord(docker, lock.backupId).catch(() => undefined) : undefined;
  if (record?.backupState !== 'IN_PROGRESS') return;
  record.backupState = 'FAILED';
  record.shortError = shortError;
  record.completed_at = new Date().toISOString();
  await updateClusterRecord(docker, record).catch(() => undefined);
  // A local-file run from this machine also left its local copy IN_PROGRESS.
  if (local && (await local.list()).some((r) => r.id === record.id)) await local.put(record);
}
