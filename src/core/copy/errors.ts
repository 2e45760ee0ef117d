import { UcpError } from '../errors';

/** What an upload reports: the checksum of what was sent, equal to what was read back. */
export interface Uploaded {
  sha256: string;
  size: number;
  checkedBy: 'read back';
  /** Leftovers of interrupted copies removed on the way (staleParts.ts). */
  staleRemoved?: string[];
}

export class ChecksumMismatchError extends UcpError {
  constructor(where: string, sent: string, found: string) {
    super(`The copy at ${where} does not match what was sent (sha256 ${sent} sent, ${found} read back); it was removed.`, 'Run the copy again; if it keeps failing, check the destination\'s storage.', 1);
  }
}

export class SourceChangedError extends UcpError {
  constructor(what: string, recorded: string, found: string) {
    super(`${what} is not the backup its record describes (sha256 ${recorded} recorded, ${found} read): it changed or was damaged after it was written. Nothing was kept at the destination.`, 'Verify the backup (ucp-backup verify) and copy a good one.', 1);
  }
}
