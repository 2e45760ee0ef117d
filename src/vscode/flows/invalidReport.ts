/**
 * A file that is not a backup at all (neither OpenPGP nor tar), right-clicked for Verify: an
 * INVALID report that says what the file is, not an error toast cut off at its first line.
 * Pure (unit-tested).
 */
import { NotABackupError } from '../../core/archive/errors';
import type { VerifyReport } from '../../core/verify/report';

export function notABackupReport(source: string, err: unknown, bytes = 0): VerifyReport | undefined {
  if (!(err instanceof NotABackupError)) return undefined;
  return {
    verdict: 'INVALID',
    source,
    encrypted: false,
    entries: [],
    entryCount: 0,
    truncatedListing: false,
    checks: [{ id: 'format', title: 'A UCP backup: a tar archive, or OpenPGP-encrypted tar', pass: false, reason: `${err.message} ${err.hint ?? ''}`.trim() }],
    entriesHashed: false,
    bytes,
    tarBytes: 0,
  };
}
