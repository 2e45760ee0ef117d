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

/**
 * A record as UCP sent it: the documented fields (a missing one filled with '' or false), then
 * every field the spec does not list, as sent, so a newer UCP's additions are kept and shown.
 */
export type UcpBackupRecord = BackupRecord & Record<string, unknown>;

/** One record checked against the Backup schema. */
export interface CheckedBackupRecord {
  record: UcpBackupRecord;
  /** Documented fields UCP did not send (or sent as null): a warning, not an error. */
  missingFields: string[];
  /** Fields beyond the documented schema, in the order UCP sent them. */
  newFields: string[];
}

const STATES: readonly BackupState[] = ['IN_PROGRESS', 'SUCCESS', 'FAILED'];
const BOOLEAN_FIELDS = new Set<string>(['encrypted']);
/** Without these a record cannot be named or waited on, so their absence is an error. */
const REQUIRED_FIELDS = new Set<string>(['id', 'backupState']);
const SPEC_FIELD_SET = new Set<string>(SPEC_FIELDS);

/**
 * Checks each documented field's JSON type (a wrong type is refused: its meaning is unknown),
 * fills and reports missing ones, and keeps the fields a newer UCP adds. Throws InvalidResponseError.
 */
export function checkBackupRecord(value: unknown, where = 'backup'): CheckedBackupRecord {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new InvalidResponseError(`${where} is not a JSON object`);
  }
  const v = value as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  const missingFields: string[] = [];
  for (const field of SPEC_FIELDS) {
    const want = BOOLEAN_FIELDS.has(field) ? 'boolean' : 'string';
    const got = v[field];
    if (got === undefined || got === null) {
      if (REQUIRED_FIELDS.has(field)) throw new InvalidResponseError(`${where} has no ${field}`);
      missingFields.push(field);
      out[field] = want === 'boolean' ? false : '';
      continue;
    }
    if (typeof got !== want) throw new InvalidResponseError(`${where}.${field} should be a ${want}, got ${describe(got)}`);
    out[field] = got;
  }
  const newFields = Object.keys(v).filter((k) => !SPEC_FIELD_SET.has(k));
  for (const k of newFields) out[k] = v[k];
  const record = out as UcpBackupRecord;
  if (!record.id) throw new InvalidResponseError(`${where}.id is empty`);
  if (!STATES.includes(record.backupState)) {
    throw new InvalidResponseError(`${where}.backupState is ${JSON.stringify(record.backupState)}, not one of ${STATES.join(', ')}`);
  }
  for (const t of ['created_at', 'completed_at'] as const) {
    if (record[t] && Number.isNaN(Date.parse(record[t]))) throw new InvalidResponseError(`${where}.${t} is not a timestamp: ${describe(record[t])}`);
  }
  return { record, missingFields, newFields };
}

export function checkBackupList(value: unknown): CheckedBackupRecord[] {
  if (!Array.isArray(value)) throw new InvalidResponseError(`the backup list is ${describe(value)}, not a JSON array`);
  return value.map((item, i) => checkBackupRecord(item, `backups[${i}]`));
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
  return s.length > 60 ? `${s.slice(0, 57)}…` : s;
}
