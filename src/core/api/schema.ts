/**
 * Wire shapes of the UCP backup API (back-up-ucp.txt, "Create, list, and retrieve UCP backups
 * using the API" and "Backup schema"), and the checks the client runs on what comes back.
 */
import { SPEC_FIELDS, type BackupRecord, type BackupState } from '../history/record';
import { InvalidResponseError } from './errors';

/** POST /api/ucp/backup body: the documented fields (the doc's curl example uses other names). */
export interface CreateBackupRequest {
  fileName: string;
  hostPath: string;
  passphrase?: string;
  noPassphrase?: boolean;
  includeLogs?: boolean;
}

const STATES: readonly BackupState[] = ['IN_PROGRESS', 'SUCCESS', 'FAILED'];
const BOOLEAN_FIELDS = new Set<string>(['encrypted']);

/** Keeps exactly the spec's fields after checking each one's JSON type; throws InvalidResponseError. */
export function parseBackupRecord(value: unknown, where = 'backup'): BackupRecord {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new InvalidResponseError(`${where} is not a JSON object`);
  }
  const v = value as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const field of SPEC_FIELDS) {
    const want = BOOLEAN_FIELDS.has(field) ? 'boolean' : 'string';
    if (typeof v[field] !== want) throw new InvalidResponseError(`${where}.${field} should be a ${want}, got ${describe(v[field])}`);
    out[field] = v[field];
  }
  const record = out as unknown as BackupRecord;
  if (!record.id) throw new InvalidResponseError(`${where}.id is empty`);
  if (!STATES.includes(record.backupState)) {
    throw new InvalidResponseError(`${where}.backupState is ${JSON.stringify(record.backupState)}, not one of ${STATES.join(', ')}`);
  }
  for (const t of ['created_at', 'completed_at'] as const) {
    if (Number.isNaN(Date.parse(record[t]))) throw new InvalidResponseError(`${where}.${t} is not a timestamp: ${JSON.stringify(record[t])}`);
  }
  return record;
}

export function parseBackupList(value: unknown): BackupRecord[] {
  if (!Array.isArray(value)) throw new InvalidResponseError(`the backup list is ${describe(value)}, not a JSON array`);
  return value.map((item, i) => parseBackupRecord(item, `backups[${i}]`));
}

/**
 * The spec says POST answers "a backup ID" without giving its JSON shape: accept a bare JSON
 * string, an object with id/backupId/backup_id, or the ID as plain text.
 */
export function parseBackupId(body: string): string {
  let id: unknown = body.trim();
  try {
    const json: unknown = JSON.parse(body);
    if (typeof json === 'string') id = json;
    else if (json && typeof json === 'object') {
      const o = json as Record<string, unknown>;
      id = o.id ?? o.backupId ?? o.backup_id;
    }
  } catch {
    // plain text: keep the trimmed body
  }
  if (typeof id !== 'string' || !/^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/.test(id)) {
    throw new InvalidResponseError(`POST /api/ucp/backup did not answer a backup ID (got ${describe(id)})`);
  }
  return id;
}

function describe(x: unknown): string {
  if (x === undefined) return 'nothing';
  const s = JSON.stringify(x);
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}
