/**
 * A cluster's backup state against its schedules: last good backup and its age, next due,
 * overdue, last failure and why. Pure (records, schedules, now in; a plain object out) so the
 * CLI's `schedule status` and the VS Code tree and status bar show the same answer.
 *
 * Overdue: a schedule's first run after its own last good backup (one named with its prefix)
 * started (or after the schedule was installed, when there is none) has passed by more than its
 * grace — the random delay plus the interval, at most an hour — without a newer one. A run that
 * is merely running long is not overdue until then. Only the schedule's own backups count: a
 * manual backup on a laptop does not make a broken nightly timer on time (the admin must hear
 * that the timer stopped), though it is the cluster's last good backup.
 */
import type { BackupRecord } from '../history/record';
import { newestFirst } from '../retention/policy';
import { nextRun, parseCron } from './cron';
import { isScheduleBackupName, type ClusterSchedule } from './clusterSchedule';

export interface ScheduleState {
  schedule: ClusterSchedule;
  /** When a run was due after the last good backup (or the install). */
  dueAt?: string;
  /** The next run from now. */
  nextRunAt?: string;
  overdue: boolean;
}

export interface ClusterBackupStatus {
  cluster: string;
  lastGood?: BackupRecord;
  lastGoodAgeMs?: number;
  lastFailure?: { record: BackupRecord; why: string };
  /** The earliest next run over the cluster's schedules. */
  nextDueAt?: string;
  /** The shortest expected interval over its schedules. */
  expectedIntervalMs?: number;
  overdue: boolean;
  /** Since when, when overdue (the earliest missed due time). */
  overdueSince?: string;
  schedules: ScheduleState[];
}

const HOUR = 3_600_000;

export function graceMs(s: ClusterSchedule): number {
  return s.randomDelaySec * 1000 + Math.min(s.intervalMs, HOUR);
}

export function clusterBackupStatus(cluster: string, records: readonly BackupRecord[], schedules: readonly ClusterSchedule[], now: Date): ClusterBackupStatus {
  const mine = newestFirst(records.filter((r) => !r.cluster || r.cluster === cluster));
  const lastGood = mine.find((r) => r.backupState === 'SUCCESS');
  const failure = mine.find((r) => r.backupState === 'FAILED');
  const lastFailure = failure && (!lastGood || newestFirst([failure, lastGood])[0] === failure) ? { record: failure, why: failure.shortError || 'no reason recorded' } : undefined;
  const states = schedules
    .filter((s) => s.cluster === cluster)
    .map((schedule): ScheduleState => {
      const cron = parseCron(schedule.cron);
      const own = schedule.namePrefix ? mine.find((r) => r.backupState === 'SUCCESS' && isScheduleBackupName(schedule.namePrefix, r.fileName)) : lastGood;
      const since = own && Date.parse(own.created_at) > Date.parse(schedule.installedAt) ? new Date(own.created_at) : new Date(schedule.installedAt);
      const due = nextRun(cron, since, schedule.timeZone);
      const next = nextRun(cron, now, schedule.timeZone);
      const overdue = !!due && now.getTime() > due.getTime() + graceMs(schedule);
      return { schedule, dueAt: due?.toISOString(), nextRunAt: next?.toISOString(), overdue };
    });
  const overdueSince = states
    .filter((s) => s.overdue)
    .map((s) => s.dueAt!)
    .sort()[0];
  return {
    cluster,
    lastGood,
    lastGoodAgeMs: lastGood ? now.getTime() - Date.parse(lastGood.completed_at || lastGood.created_at) : undefined,
    lastFailure,
    nextDueAt: states.map((s) => s.nextRunAt).filter((x): x is string => !!x).sort()[0],
    expectedIntervalMs: states.length ? Math.min(...states.map((s) => s.schedule.intervalMs)) : undefined,
    overdue: !!overdueSince,
    overdueSince,
    schedules: states,
  };
}
