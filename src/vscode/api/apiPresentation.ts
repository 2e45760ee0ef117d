/**
 * How a backup row reads when the record came (also) from UCP's API: the source, UCP's zero
 * time as "not completed", a size UCP does not report, fields UCP left out or added. Built on
 * the tree's backupPresentation; pure, no `vscode` import (unit-tested).
 */
import { formatFieldValue, formatUcpTime, NOT_SENT } from '../../core/api/recordText';
import type { BackupRecord } from '../../core/history/record';
import { backupPresentation, type Presentation } from '../tree/presentation';
import { mergedInfo, SOURCE_TEXT, type MergedBackup } from './mergedHistory';

const MAX_NEW_FIELD_TEXT = 80;

export function mergedBackupPresentation(record: BackupRecord, info: MergedBackup | undefined = mergedInfo(record), now: number = Date.now()): Presentation {
  const base = backupPresentation(record, now);
  if (!info || info.source === 'ssh') return base;
  const lines = base.tooltip.split('\n').filter((l) => !l.startsWith('Completed: '));
  const created = lines.findIndex((l) => l.startsWith('Created: '));
  const extra = [`Completed: ${formatUcpTime(record.completed_at)}`];
  if (record.size === undefined) extra.push("Size: not known (UCP's API does not report it)");
  lines.splice(created + 1, 0, ...extra);
  lines.push(`Source: ${SOURCE_TEXT[info.source]}${info.source === 'api' ? ' (GET /api/ucp/backups)' : ''}`);
  if (info.missingFields.length) lines.push(`${NOT_SENT}: ${info.missingFields.join(', ')}`);
  for (const f of info.newFields) {
    const v = formatFieldValue((record as unknown as Record<string, unknown>)[f]);
    lines.push(`${f} (new in this UCP): ${v.length > MAX_NEW_FIELD_TEXT ? `${v.slice(0, MAX_NEW_FIELD_TEXT - 1)}…` : v}`);
  }
  return { ...base, description: `${base.description} · ${SOURCE_TEXT[info.source]}`, tooltip: lines.join('\n') };
}
