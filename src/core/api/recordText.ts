/**
 * How a UCP backup record reads to an admin, shared by the CLI and (later) the tree and the
 * details view: UCP's zero time means "not completed", a field UCP did not send says so, and
 * fields a newer UCP adds are shown after the documented ones. Pure functions.
 */
import { SPEC_FIELDS, ZERO_TIME } from '../history/record';
import type { CheckedBackupRecord } from './schema';

export const NOT_COMPLETED = 'not completed';
export const NOT_SENT = '(not sent by UCP)';

/** The spec's list example: an IN_PROGRESS backup has `completed_at` "0001-01-01T00:00:00Z" (Go's zero time). */
export function isUcpZeroTime(iso: string | undefined): boolean {
  if (!iso) return false;
  if (iso === ZERO_TIME) return true;
  // Go also writes it with fractions or an offset; year 1 is never a real backup time.
  const t = Date.parse(iso);
  return Number.isFinite(t) && new Date(t).getUTCFullYear() <= 1;
}

/** A timestamp of the record as text: "not completed" for the zero time, the ISO text otherwise. */
export function formatUcpTime(iso: string | undefined): string {
  if (iso === undefined || iso === '') return NOT_SENT;
  return isUcpZeroTime(iso) ? NOT_COMPLETED : iso;
}

/** True once UCP wrote a real completion time; undefined when it did not send `completed_at`. */
export function isCompleted(record: { completed_at?: string }): boolean | undefined {
  if (!record.completed_at) return undefined;
  return !isUcpZeroTime(record.completed_at);
}

/** A value as one line of text: strings as they are, anything else as JSON. */
export function formatFieldValue(value: unknown): string {
  if (typeof value === 'string') return value;
  const s = JSON.stringify(value);
  return s === undefined ? String(value) : s;
}

export interface RecordLine {
  field: string;
  value: string;
  /** 'spec': a documented field; 'new': one the spec does not list (a newer UCP). */
  kind: 'spec' | 'new';
}

/** The record's fields as label/value pairs: documented ones in the spec's order, then the new ones. */
export function recordLines(checked: CheckedBackupRecord): RecordLine[] {
  const { record, missingFields, newFields } = checked;
  const lines: RecordLine[] = SPEC_FIELDS.map((field) => {
    let value: string;
    if (missingFields.includes(field)) value = NOT_SENT;
    else if (field === 'created_at' || field === 'completed_at') value = formatUcpTime(record[field]);
    else value = formatFieldValue(record[field]);
    return { field, value, kind: 'spec' };
  });
  for (const field of newFields) lines.push({ field, value: formatFieldValue(record[field]), kind: 'new' });
  return lines;
}

/**
 * One warning for a whole list, grouped by field, so 5,000 records from a UCP that dropped a
 * field give one line, not 5,000.
 */
export function missingFieldsWarning(checked: readonly CheckedBackupRecord[]): string | undefined {
  const byField = new Map<string, string[]>();
  for (const c of checked) {
    for (const f of c.missingFields) {
      const ids = byField.get(f);
      if (ids) ids.push(c.record.id);
      else byField.set(f, [c.record.id]);
    }
  }
  if (byField.size === 0) return undefined;
  const parts = [...byField].map(([field, ids]) =>
    checked.length === 1 ? field : `${field} (${ids.length === checked.length ? 'all' : ids.length} of ${checked.length} records${ids.length <= 3 ? `: ${ids.join(', ')}` : ''})`,
  );
  const what = checked.length === 1 ? `backup ${checked[0].record.id} lacks` : 'records lack';
  return `UCP's answer does not follow the documented Backup schema: ${what} ${parts.join('; ')}. Shown as ${NOT_SENT}; is this UCP a newer or older version than the documented API?`;
}
