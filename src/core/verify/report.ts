/**
 * The result of verifying a backup: plain JSON, rendered by the details webview, printed
 * by the CLI (`--json`) and compared by `diff`. Entry names are raw, untrusted data: the
 * webview escapes them, terminals use displayName() (safeName.ts).
 */
import type { EntryInfo } from '../archive/entry';

export type Verdict = 'VALID' | 'INVALID';

export type { EntryInfo };

export type CheckId =
  | 'format'
  | 'integrity'
  | 'tar'
  | 'entries'
  | 'keyPem'
  | 'names'
  | 'manifest'
  | 'etcd'
  | 'ucpVersion'
  | 'restorable';

export interface Check {
  id: CheckId;
  title: string;
  pass: boolean;
  reason: string;
}

export interface ManifestSummary {
  /** Name of the manifest entry in the archive. */
  entry: string;
  format: string;
  ucpVersion?: string;
  node?: string;
  engine?: string;
  created_at?: string;
  entries: number;
  /** Manifest entries that were missing or differ (names), at most a few. */
  mismatches: string[];
}

export interface VerifyReport {
  verdict: Verdict;
  /** The file path, or the label of a streamed source (e.g. "manager1:/var/backups/ucp/b.tar"). */
  source: string;
  encrypted: boolean;
  /** e.g. "AES256" when encrypted. */
  cipher?: string;
  /** OpenPGP compression inside the encryption: "none", "ZIP", "ZLIB", "BZIP2". */
  compression?: string;
  /** Listed entries, in archive order; at most maxEntriesInReport. */
  entries: EntryInfo[];
  /** All entries of the archive (the spec's "27 or more" counts directories too). */
  entryCount: number;
  truncatedListing: boolean;
  checks: Check[];
  manifest?: ManifestSummary;
  ucpVersion?: string;
  /** SHA-256 (hex) of the file as read (ciphertext when encrypted), when asked for (fileSha256). */
  sha256?: string;
  /** Whether entries carry their SHA-256 (hashEntries). */
  entriesHashed: boolean;
  /** Bytes of the file as read. */
  bytes: number;
  /** Bytes of tar data (plaintext). */
  tarBytes: number;
}

/** The checks that failed, for one-line summaries. */
export function failedChecks(r: VerifyReport): Check[] {
  return r.checks.filter((c) => !c.pass);
}
