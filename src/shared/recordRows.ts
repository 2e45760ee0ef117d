/**
 * The details header's rows for a backup record: human labels with the schema key on hover,
 * local times with their age and the UTC time on hover, sizes to the byte, and no row for a
 * field that is empty (an empty shortError, no log file). Pure, shared by the webview and tests.
 */
import { SPEC_FIELDS, type BackupRecord } from '../core/history/record';
import { listedCopies } from '../core/copy/copyRecord';
import { formatLocalTime, formatRelative, formatSize, formatUtcTime, isZeroTime } from './format';

export const EXTRA_FIELDS = ['size', 'sha256', 'ucpVersion', 'engine', 'engineReason'] as const;
export type RecordField = (typeof SPEC_FIELDS)[number] | (typeof EXTRA_FIELDS)[number] | 'copies';

export const FIELD_LABELS: Record<RecordField, string> = {
  id: 'Backup ID',
  encrypted: 'Encrypted',
  fileName: 'File name',
  logFileName: 'Log file',
  backupPath: 'Folder',
  backupState: 'State',
  nodeLocation: 'Node',
  shortError: 'Error',
  created_at: 'Created',
  completed_at: 'Completed',
  size: 'Size',
  sha256: 'SHA-256',
  ucpVersion: 'UCP version',
  engine: 'Engine',
  engineReason: 'Why this engine',
  copies: 'Copy',
};

/** Fields shown even when empty: what identifies the backup and says how it went. */
const ALWAYS: ReadonlySet<RecordField> = new Set(['id', 'fileName', 'backupState', 'created_at', 'completed_at']);

export interface RecordRow {
  field: RecordField;
  label: string;
  value: string;
  /** Hover of the value: the exact UTC time, the byte count, … */
  valueTitle?: string;
  /** Hover of the label: the field's key in the spec's Backup schema (or ours). */
  keyTitle: string;
  mono?: boolean;
}

function timeValue(iso: string, now: number): { value: string; valueTitle?: string } {
  const local = formatLocalTime(iso, true);
  if (!local) return { value: iso };
  const age = formatRelative(iso, now);
  return { value: age ? `${local} (${age})` : local, valueTitle: `${formatUtcTime(iso)} · ${iso}` };
}

function valueOf(record: BackupRecord, field: Exclude<RecordField, 'copies'>, now: number): { value: string; valueTitle?: string } {
  const v = record[field];
  if (v === undefined || v === null || v === '') return { value: '' };
  switch (field) {
    case 'encrypted':
      return { value: v ? 'Yes, with a passphrase' : 'No' };
    case 'size':
      return { value: `${formatSize(v as number)} (${(v as number).toLocaleString('en-US')} bytes)` };
    case 'engine':
      return { value: v === 'official' ? 'Official UCP image' : 'Built-in' };
    case 'created_at':
    case 'completed_at':
      // UCP's zero time (0001-01-01T00:00:00Z) means the backup has not completed.
      if (isZeroTime(v as string)) return { value: 'not completed', valueTitle: String(v) };
      return timeValue(v as string, now);
    default:
      return { value: String(v) };
  }
}

export function recordRows(record: BackupRecord, now: number = Date.now()): RecordRow[] {
  const rows: RecordRow[] = [];
  for (const field of [...SPEC_FIELDS, ...EXTRA_FIELDS]) {
    const { value, valueTitle } = valueOf(record, field, now);
    if (!value && !ALWAYS.has(field)) continue;
    const inSpec = (SPEC_FIELDS as readonly string[]).includes(field);
    rows.push({ field, label: FIELD_LABELS[field], value, valueTitle, keyTitle: `${field}${inSpec ? ' (Backup schema)' : ' (UCP Backup)'}`, mono: field === 'id' || field === 'sha256' });
  }
  for (const c of listedCopies(record)) {
    rows.push({ field: 'copies', label: 'Copy', value: `${c.location} (read back and checked ${formatLocalTime(c.checkedAt) || c.checkedAt})`, valueTitle: `${c.size} bytes · SHA-256 ${c.sha256}`, keyTitle: 'copies (UCP Backup)' });
  }
  return rows;
}
