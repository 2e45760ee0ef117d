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
