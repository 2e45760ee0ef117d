/** What the status bar item says (statusBar.ts), without `vscode`: unit-tested. */
import type { BackupRecord } from '../core/history/record';
import { formatLocalTime, formatRelative } from '../shared/format';
import type { ScheduleLook } from './scheduleLook';

/** Older than this, the last good backup is worth a warning colour. */
export const STALE_BACKUP_MS = 36 * 3600_000;

export interface StatusBarLook {
  text: string;
  tooltip: string;
  warning: boolean;
}

/**
 * What the item says for a cluster: `running` is the step of a backup this window runs;
 * `schedule` its schedules' state (scheduleLook), when the swarm records any.
 */
export function statusBarLook(cluster: string, records: readonly BackupRecord[] | undefined, running: string | undefined, now: number = Date.now(), schedule?: ScheduleLook): StatusBarLook {
  if (running) return { text: `$(sync~spin) ${cluster}: ${running}`, tooltip: `UCP backup of ${cluster} running: ${running}`, warning: false };
  if (!records) return { text: `$(archive) ${cluster}`, tooltip: `UCP Backup: reading the backup history of ${cluster}…`, warning: false };
  const newest = records.find((r) => r.backupState !== 'IN_PROGRESS');
  const lastGood = records.find((r) => r.backupState === 'SUCCESS');
  if (!lastGood) return { text: `$(warning) ${cluster}: no backup`, tooltip: `${cluster} has no successful UCP backup yet. Click to open the UCP Backup view, then Backup Now.`, warning: true };
  const age = formatRelative(lastGood.created_at, now);
  const failedAfter = newest && newest.backupState === 'FAILED' && newest !== lastGood && Date.parse(newest.created_at) > Date.parse(lastGood.created_at);
  const stale = now - Date.parse(lastGood.created_at) > STALE_BACKUP_MS;
  const overdue = !!schedule?.overdue;
  const tooltip = [
    `Last UCP backup of ${cluster}: ${lastGood.fileName}, ${formatLocalTime(lastGood.created_at)} (${age}) on ${lastGood.nodeLocation}`,
    failedAfter ? `The newest run failed: ${newest!.shortError || 'no error recorded'}` : '',
    stale ? 'It is older than 36 hours.' : '',
    ...(schedule?.lines ?? []),
    'Click to open the UCP Backup view.',
  ]
    .filter(Boolean)
    .join('\n');
  const warning = !!(failedAfter || stale || overdue);
  return { text: `${warning ? '$(warning)' : '$(archive)'} ${cluster}: ${age}${overdue ? ' · overdue' : ''}`, tooltip, warning };
}

