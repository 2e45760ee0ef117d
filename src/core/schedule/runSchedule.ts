/**
 * One run of a schedule (what the timer or crontab line starts, and `schedule run-now`):
 * a backup named <prefix><UTC time>.tar, then a copy to each --copy-to destination, then the
 * --notify-command with the result as JSON on stdin. Scheduled runs never accept a new host
 * key: an unknown or changed key fails the run, in words, like any other failure.
 *
 * Exit codes (documented for cron in the README and `schedule --help`):
 *   0 backup and every copy done · 1 backup failed · 2 usage or set-up (schedule, passphrase,
 *   config) · 3 skipped: another backup was running · 4 backup done, a copy failed ·
 *   5 backup and copies done, the retention (--keep-*) could not remove an old backup ·
 *   130 / 143 cancelled by SIGINT / stopped by SIGTERM.
 *
 * Retention runs only after a fully good run (backup and every copy): with a copy missing, the
 * older backups are what an admin falls back on. It sees only this schedule's own backups (its
 * name prefix, in its destination), and never removes the newest verified one.
 */
import { spawn } from 'node:child_process';
import type Docker from 'dockerode';
import { describeError, UcpError } from '../errors';
import { findCluster, findNode, loadConfigFile, type ClusterConfig } from '../config';
import { SessionPool } from '../ssh/sessionPool';
import { runBackup } from '../engine/runBackup';
import { BackupRunningError } from '../engine/errors';
import type { BackupRecord } from '../history/record';
import type { ProgressSink } from '../progress';
import { copyBackup, type CopyRecord } from '../copy/copyBackup';
import { listBackups } from '../history/backupHistory';
import { LocalHistory } from '../history/localHistory';
import { managerByHostname } from '../history/managerByHostname';
import { executePrune } from '../history/retention';
import { planRetention } from '../retention/plan';
import { readSchedulePassphrase, type ScheduleDefinition } from './definition';
import { isScheduleBackupName } from './clusterSchedule';

export const SCHEDULE_EXIT = { ok: 0, failed: 1, usage: 2, skipped: 3, copyFailed: 4, pruneFailed: 5 } as const;

export interface ScheduleRunResult {
  schedule: string;
  cluster: string;
  machine: string;
  outcome: 'success' | 'failed' | 'skipped' | 'copy-failed' | 'prune-failed' | 'cancelled';
  exitCode: number;
  startedAt: string;
  finishedAt: string;
  record?: BackupRecord;
  copies: CopyRecord[];
  copyErrors: { to: string; error: string }[];
  /** With --keep-*: the ids of the older backups removed (record and files), and what could not be. */
  pruned?: string[];
  pruneErrors?: { id: string; error: string }[];
  /** Why it failed or was skipped, in words. */
  error?: string;
}

export function backupName(prefix: string, at: Date): string {
  return `${prefix}${at.toISOString().replace(/\.\d+Z$/, 'Z').replace(/[-:]/g, '')}.tar`;
}

export interface RunDeps {
  signal?: AbortSignal;
  onProgress?: ProgressSink;
  log?: (line: string) => void;
}

export async function runSchedule(def: ScheduleDefinition, deps: RunDeps = {}): Promise<ScheduleRunResult> {
  const started = new Date();
  const result: ScheduleRunResult = { schedule: def.id, cluster: def.cluster, machine: def.machine, outcome: 'failed', exitCode: 1, startedAt: started.toISOString(), finishedAt: '', copies: [], copyErrors: [] };
  const pool = new SessionPool({ acceptUnknownHostKeys: false });
  let last: BackupRecord | undefined;
  try {
    const passphrase = await readSchedulePassphrase(def);
    const cluster = findCluster(await loadConfigFile(def.configFile), def.cluster);
    const node = findNode(cluster, def.node);
    const docker: Docker = await pool.get(node).docker();
    const fileName = backupName(def.namePrefix, started);
    const destination = def.destination.kind === 'local' ? { kind: 'local' as const, path: `${def.destination.dir.replace(/\/+$/, '')}/${fileName}` } : { kind: 'host' as const, hostPath: def.destination.hostPath, fileName };
    const record = await runBackup(
      { destination, passphrase, noPassphrase: !def.encrypted, includeLogs: def.includeLogs, engine: def.engine, owner: `schedule ${def.id} on ${def.machine}` },
      { docker, cluster, node, signal: deps.signal, onProgress: deps.onProgress, log: deps.log, onRecord: (r) => (last = r) },
    );
    result.record = record;
    for (const to of def.copyTo) {
      try {
        result.copies.push(await copyBackup({ record }, to, { docker, s3: { endpoint: def.s3Endpoint }, sftp: { identityFile: def.sshIdentityFile, knownHostsFile: def.knownHostsFile }, signal: deps.signal }));
      } catch (err) {
        result.copyErrors.push({ to, error: describeError(err) });
      }
    }
    [result.outcome, result.exitCode] = result.copyErrors.length ? ['copy-failed', SCHEDULE_EXIT.copyFailed] : ['success', SCHEDULE_EXIT.ok];
    if (result.copyErrors.length) result.error = result.copyErrors.map((c) => `copy to ${c.to} failed: ${c.error}`).join('; ');
    else if (def.retention) {
      // The backup and its copies are done: whatever goes wrong here is a prune failure (exit 5), never a failed backup.
      const done = await pruneOwn(def, record, cluster, docker, pool).catch((err: unknown) => [{ record: { id: '(listing the backups)' } as BackupRecord, error: describeError(err) }]);
      result.pruned = done.filter((p) => !p.error).map((p) => p.record.id);
      result.pruneErrors = done.filter((p) => p.error).map((p) => ({ id: p.record.id, error: p.error! }));
      if (result.pruneErrors.length) {
        [result.outcome, result.exitCode] = ['prune-failed', SCHEDULE_EXIT.pruneFailed];
        result.error = result.pruneErrors.map((p) => `could not remove old backup ${p.id}: ${p.error}`).join('; ');
      }
    }
  } catch (err) {
    result.record = last;
    result.error = describeError(err);
    if (err instanceof BackupRunningError) [result.outcome, result.exitCode] = ['skipped', SCHEDULE_EXIT.skipped];
    else if (err instanceof UcpError && (err.exitCode === 130 || err.exitCode === 143)) [result.outcome, result.exitCode] = ['cancelled', deps.signal?.reason === 'SIGTERM' ? 143 : 130];
    else [result.outcome, result.exitCode] = ['failed', last ? SCHEDULE_EXIT.failed : err instanceof UcpError && err.exitCode === 2 ? SCHEDULE_EXIT.usage : SCHEDULE_EXIT.failed];
  } finally {
    pool.closeAll();
    result.finishedAt = new Date().toISOString();
  }
  return result;
}

/** The schedule's own older backups, by its policy (restic's semantics, src/core/retention). */
async function pruneOwn(def: ScheduleDefinition, record: BackupRecord, cluster: ClusterConfig, docker: Docker, pool: SessionPool): Promise<{ record: BackupRecord; error?: string }[]> {
  const local = new LocalHistory();
  const mine = new Set((await local.list(cluster.name)).map((r) => r.id));
  const destination = record.location === 'host' ? `${record.nodeLocation}:${record.backupPath}` : record.backupPath;
  const own = (await listBackups(cluster, docker, local)).filter((r) => isScheduleBackupName(def.namePrefix, r.fileName));
  const plan = planRetention(own, { policy: def.retention!, destination, mine, timeZone: def.timeZone });
  return executePrune(plan, { docker, dockerForNode: managerByHostname(cluster, pool), local });
}

/**
 * Runs the admin's --notify-command through /bin/sh with the result as JSON on stdin (and
 * UCP_BACKUP_OUTCOME / UCP_BACKUP_EXIT_CODE set), for mail, chat or monitoring. A hook that
 * fails or hangs (60 s) is reported; it never changes the run's exit code.
 */
export function notify(command: string, result: ScheduleRunResult, timeoutMs = 60_000): Promise<string | undefined> {
  return new Promise((resolve) => {
    const child = spawn('/bin/sh', ['-c', command], { stdio: ['pipe', 'ignore', 'pipe'], env: { ...process.env, UCP_BACKUP_OUTCOME: result.outcome, UCP_BACKUP_EXIT_CODE: String(result.exitCode) } });
    let stderr = '';
    const timer = setTimeout(() => child.kill('SIGTERM'), timeoutMs);
    child.stderr.on('data', (d) => (stderr = (stderr + d).slice(-500)));
    child.on('error', (err) => {
      clearTimeout(timer);
      resolve(`the notify command could not start: ${err.message}`);
    });
    child.on('close', (code, sig) => {
      clearTimeout(timer);
      resolve(code === 0 ? undefined : `the notify command ${sig ? `was stopped (${sig}) after ${timeoutMs / 1000} s` : `exited ${code}`}${stderr.trim() ? `: ${stderr.trim()}` : ''}`);
    });
    child.stdin.on('error', () => undefined); // a hook that ignores its input
    child.stdin.end(JSON.stringify(result) + '\n');
  });
}
