/**
 * A copy as the backup's record lists it (`copies`), and reading that list. Types and a pure
 * reader only: the tree, the details webview and the retention preview use it without the
 * transports (ssh2, the AWS SDK) behind copyBackup.ts.
 */
import type { BackupRecord } from '../history/record';

export interface CopyRecord {
  /** The destination as given (normalised): sftp://…/, s3://bucket/prefix, a folder. */
  to: string;
  /** The copy itself. */
  location: string;
  size: number;
  sha256: string;
  copiedAt: string;
  /** When the copy was read back and its SHA-256 found equal to what was sent. */
  checkedAt: string;
  checkedBy: 'read back';
}

/** A record with the copies made of it (kept in the same record; older readers ignore the field). */
export type RecordWithCopies = BackupRecord & { copies?: CopyRecord[] };

/** The copies a record lists; none for a record without them (or a list of another shape). */
export function listedCopies(r: BackupRecord): CopyRecord[] {
  const copies = (r as RecordWithCopies).copies;
  return Array.isArray(copies) ? copies.filter((c): c is CopyRecord => !!c && typeof c.location === 'string' && typeof c.checkedAt === 'string') : [];
}
