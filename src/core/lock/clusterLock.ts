/**
 * One backup at a time, cluster-wide (the spec: "More than one backup at the same time is not
 * supported"). The lock is a swarm config named `ucp-backup.lock`: swarm refuses a second
 * config of the same name (409), so creating it is an atomic test-and-set that every manager
 * and every admin sees. Config data is immutable but labels may be updated (with the object's
 * version for optimistic concurrency), so the heartbeat lives in a label.
 */
import { hostname, userInfo } from 'node:os';
import type Docker from 'dockerode';
import { BackupRunningError, StaleLockError } from '../engine/errors';
import { dockerMessage, statusCode } from '../engine/dockerStreams';
import { UcpError } from '../errors';
import { getClusterRecord, updateClusterRecord } from '../history/clusterHistory';
import type { LocalHistory } from '../history/localHistory';

export const LOCK_NAME = 'ucp-backup.lock';
const P = 'com.ucp-backup.lock.';
/** Six missed heartbeats: the owner is gone. */
export const STALE_AFTER_MS = 60_000;

/**
 * How old a heartbeat may get before the lock counts as stale: 60 s, or
 * UCP_BACKUP_LOCK_STALE_MS (tests, and admins whose clocks or links need more slack). A
 * holder records its beat interval in the lock, and is never judged before six of its beats.
 */
export function staleAfterMs(env: NodeJS.ProcessEnv = process.env): number {
  const v = Number(env.UCP_BACKUP_LOCK_STALE_MS);
  return Number.isFinite(v) && v > 0 ? v : STALE_AFTER_MS;
}

/** Beat six times per stale period (at most every 10 s: each beat is a raft write). */
export function heartbeatMs(env: NodeJS.ProcessEnv = process.env): number {
  return Math.max(200, Math.min(10_000, Math.floor(staleAfterMs(env) / 6)));
}

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
}

export interface LockInfo extends LockHolder {
  configId: string;
  stale: boolean;
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
  };
}

/** Whether a process runs on this machine (signal 0 checks existence only). */
function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function judge(h: LockHolder, now = Date.now()): { stale: boolean; reason?: string } {
  const beat = Date.parse(h.heartbeat);
  // A holder configured to beat slower than our limit assumes is not dead for that.
  if (!Number.isFinite(beat) || now - beat > Math.max(staleAfterMs(), 6 * (h.heartbeatMs ?? 10_000))) {
    return { stale: true, reason: `no heartbeat since ${h.heartbeat || 'ever'}` };
  }
  if (h.host === hostname() && h.pid > 0 && !pidAlive(h.pid)) {
    return { stale: true, reason: `process ${h.pid} on ${h.host} is gone` };
  }
  return { stale: false };
}

/** The current lock, or undefined when no backup holds it. */
export async function readLock(docker: Docker): Promise<LockInfo | undefined> {
  const list = await docker.listConfigs({ filters: { name: [LOCK_NAME] } });
  const cfg = list.find((c) => c.Spec?.Name === LOCK_NAME);
  if (!cfg) return undefined;
  const h = holderOf(cfg.Spec?.Labels);
  const j = judge(h);
  return { ...h, configId: cfg.ID, stale: j.stale, staleReason: j.reason };
}

export class BackupLock {
  private timer?: NodeJS.Timeout;
  private beating?: Promise<void>;
  private constructor(
    private readonly docker: Docker,
    readonly configId: string,
    readonly holder: LockHolder,
  ) {}

  /**
   * Takes the lock or fails at once with BackupRunningError ("another backup is running")
   * naming who/where/since; StaleLockError when the holder looks dead (never broken silently).
   */
  static async acquire(docker: Docker, who: { backupId: string; node: string; owner?: string }): Promise<BackupLock> {
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
      const lock = new BackupLock(docker, id, holder);
      lock.startHeartbeat();
      return lock;
    } catch (err) {
      if (statusCode(err) !== 409) {
        throw new UcpError(`Could not take the cluster backup lock: ${dockerMessage(err)}`, 'Check that the node is a healthy swarm manager.', 1, { cause: err });
      }
    }
    const current = await readLock(docker);
    if (!current) {
      // Released between our create and our read: one retry, still no waiting.
      return BackupLock.acquire(docker, who);
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

  /** Refreshes the heartbeat label; data is immutable, labels are not (POST /configs/{id}/update). */
  private async beat(): Promise<void> {
    const cfg = this.docker.getConfig(this.configId);
    const info = (await cfg.inspect()) as { Version: { Index: number }; Spec: { Name: string; Labels?: Record<string, string>; Data?: string } };
    const Labels = { ...(info.Spec.Labels ?? {}), [`${P}heartbeat`]: new Date().toISOString() };
    await cfg.update({ _query: { version: info.Version.Index }, _body: { ...info.Spec, Labels } });
  }

  /** Removes exactly our config (by id), so a lock someone else took after a break survives. */
  async release(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.beating;
    try {
      await this.docker.getConfig(this.configId).remove();
    } catch (err) {
      if (statusCode(err) !== 404) throw err;
    }
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
  try {
    await docker.getConfig(current.configId).remove();
  } catch (err) {
    if (statusCode(err) !== 404) throw err;
  }
  await failInterruptedRecord(docker, current, opts.localHistory);
  return current;
}

/** The crashed run could not end its record: say in the history that it never finished. */
async function failInterruptedRecord(docker: Docker, lock: LockInfo, local?: LocalHistory): Promise<void> {
  const record = lock.backupId ? await getClusterRecord(docker, lock.backupId).catch(() => undefined) : undefined;
  if (record?.backupState !== 'IN_PROGRESS') return;
  record.backupState = 'FAILED';
  record.shortError = `interrupted: its lock was broken (${lock.stale ? lock.staleReason : 'forced'})`;
  record.completed_at = new Date().toISOString();
  await updateClusterRecord(docker, record).catch(() => undefined);
  // A local-file run from this machine also left its local copy IN_PROGRESS.
  if (local && (await local.list()).some((r) => r.id === record.id)) await local.put(record);
}
