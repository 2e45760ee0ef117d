/**
 * A cluster's schedules as the tree's Backups row and the status bar show them (issue 17):
 * overdue in the warning colour, else when the next backup is due; the tooltip lines say which
 * schedule, run by which machine, expected what. Pure (no `vscode`): unit-tested.
 */
import type { ClusterSchedule } from '../core/schedule/clusterSchedule';
import type { ClusterBackupStatus } from '../core/schedule/status';
import { formatLocalTime, formatRelative } from '../shared/format';

export interface ScheduleLook {
  /** Short, for a row description or the status bar ("overdue", "next in 5 hours"). */
  short: string;
  lines: string[];
  overdue: boolean;
}

function scheduleName(s: ClusterSchedule): string {
  return `"${s.every ?? s.cron}" (${s.mode} on ${s.user}@${s.machine}, ${s.namePrefix || 'any name'}*.tar)`;
}

export function scheduleLook(status: ClusterBackupStatus, now: number = Date.now()): ScheduleLook | undefined {
  if (!status.schedules.length) return undefined;
  const lines: string[] = [];
  for (const st of status.schedules) {
    const due = st.dueAt ? `${formatLocalTime(st.dueAt)} (${formatRelative(st.dueAt, now)})` : 'never';
    lines.push(st.overdue ? `Overdue: schedule ${scheduleName(st.schedule)} was due ${due} and made no backup since. Check that machine's timer and its log.` : `Schedule ${scheduleName(st.schedule)}: next run ${st.nextRunAt ? `${formatLocalTime(st.nextRunAt)} (${formatRelative(st.nextRunAt, now)})` : 'never'}`);
  }
  if (status.lastFailure) lines.push(`Last failure: ${status.lastFailure.record.fileName || status.lastFailure.record.id}: ${status.lastFailure.why}`);
  if (status.overdue) return { short: `overdue since ${formatRelative(status.overdueSince!, now).replace(/ ago$/, '')}`, lines, overdue: true };
  return { short: status.nextDueAt ? `next ${formatRelative(status.nextDueAt, now)}` : 'scheduled', lines, overdue: false };
}

/** The notification, once per overdue spell (its key changes when a new run is missed after a good one). */
export function overdueNotice(status: ClusterBackupStatus, now: number = Date.now()): { key: string; text: string } | undefined {
  if (!status.overdue || !status.overdueSince) return undefined;
  const late = status.schedules.filter((s) => s.overdue).map((s) => scheduleName(s.schedule));
  const last = status.lastGood ? `the last good backup is from ${formatRelative(status.lastGood.created_at, now)}` : 'there is no good backup yet';
  return {
    key: `${status.cluster}|${status.overdueSince}`,
    text: `UCP backups of ${status.cluster} are overdue: ${late.join(', ')} was due ${formatRelative(status.overdueSince, now)}; ${last}.`,
  };
}
