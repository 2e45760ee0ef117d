/**
 * A backup record: exactly the spec's "Backup schema" fields (back-up-ucp.txt), then ours.
 * This is what `GET /api/ucp/backups` returns, what the tree lists and the webview shows.
 */
export type BackupState = 'IN_PROGRESS' | 'SUCCESS' | 'FAILED';

/** The spec's completed_at while a backup has not completed (Go's zero time). */
export const ZERO_TIME = '0001-01-01T00:00:00Z';

export interface BackupRecord {
  id: string;
  encrypted: boolean;
  fileName: string;
  logFileName: string;
  backupPath: string;
  backupState: BackupState;
  nodeLocation: string;
  shortError: string;
  created_at: string;
  completed_at: string;
  // --- ours, beyond the spec ---
  /** Bytes of the archive as written (ciphertext when encrypted). */
  size?: number;
  /** SHA-256 (hex) of the archive file as written. */
  sha256?: string;
  ucpVersion?: string;
  engine?: 'builtin' | 'official';
  /** Why that engine ran (the engine setting, which image was on the node). */
  engineReason?: string;
  /** Where the file lives: on the admin's machine, or in backupPath on nodeLocation. */
  location?: 'local' | 'host';
  /** Cluster name from the configuration. */
  cluster?: string;
  /** Set while this run has ucp-auth-store paused (before the pause, cleared after): what lets a later run undo a pause a crash left, and only that one. */
  authStorePaused?: boolean;
  /** Where the run's time went, ms per phase in order (stepTimer.ts); on successful built-in and official runs. */
  timingsMs?: Record<string, number>;
  /** The last restore drill of this backup (drillResult.ts); absent: never drilled. */
  lastDrill?: DrillSummary;
}

/** What the tree and details show of a backup's last restore drill. */
export interface DrillSummary {
  /** When it ended (ISO). */
  at: string;
  verdict: 'PASS' | 'WARN' | 'FAIL';
  /** The rows that did not pass, "title: reason", each shortened. */
  findings: string[];
  /** The restored member's revision and key count. */
  revision?: number;
  keys?: number;
  etcdVersion?: string;
  /** The manager its etcd ran on, or "local" (--local). */
  ranOn: string;
  durationMs: number;
}

/** The spec's fields, in the spec's order (the webview header and API fixture use it). */
export const SPEC_FIELDS = [
  'id',
  'encrypted',
  'fileName',
  'logFileName',
  'backupPath',
  'backupState',
  'nodeLocation',
  'shortError',
  'created_at',
  'completed_at',
] as const satisfies readonly (keyof BackupRecord)[];

/** A record in the store that is not one of ours in shape (another version, a hand edit). */
export interface MalformedRecord {
  /** Where it is: the swarm config's name, or the local history file. */
  source: string;
  /** What is wrong with it, in a few words. */
  problem: string;
}

const STATES: readonly string[] = ['IN_PROGRESS', 'SUCCESS', 'FAILED'];
const STRING_FIELDS = ['id', 'fileName', 'logFileName', 'backupPath', 'nodeLocation', 'shortError', 'created_at', 'completed_at'] as const;

/**
 * Checks that a parsed value has the spec's fields with the spec's types; a record that does not
 * is reported, never used (one bad record must not break the list of the others).
 */
export function checkRecord(value: unknown): { record: BackupRecord } | { problem: string } {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    return { problem: `not a record but ${Array.isArray(value) ? 'an array' : value === null ? 'null' : `a ${typeof value}`}` };
  }
  const v = value as Record<string, unknown>;
  const missing = STRING_FIELDS.filter((f) => typeof v[f] !== 'string');
  if (missing.length) return { problem: `${missing.join(', ')} ${missing.length === 1 ? 'is' : 'are'} missing or not text` };
  if (!v.id) return { problem: 'its id is empty' };
  if (typeof v.encrypted !== 'boolean') return { problem: 'encrypted is missing or not true/false' };
  if (!STATES.includes(v.backupState as string)) return { problem: `backupState is ${JSON.stringify(v.backupState)}, not IN_PROGRESS, SUCCESS or FAILED` };
  if (v.size !== undefined && typeof v.size !== 'number') return { problem: 'size is not a number' };
  return { record: value as BackupRecord };
}
