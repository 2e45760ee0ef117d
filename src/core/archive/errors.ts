/** Errors of reading an archive that the admin must be able to tell apart. */
import { UcpError } from '../errors';

/** The passphrase does not open the archive: the archive itself may be fine (exit 2). */
export class WrongPassphraseError extends UcpError {
  constructor(message = 'The passphrase does not decrypt this backup.', options?: { cause?: unknown }) {
    super(message, 'Check the passphrase (the one given to `backup --passphrase`, or stored for this cluster) and try again.', 2, options);
  }
}

/** The input is neither OpenPGP nor tar: it cannot be a UCP backup (exit 1: the file is not valid). */
export class NotABackupError extends UcpError {
  constructor(message: string) {
    super(message, 'A UCP backup is a tar archive, usually OpenPGP-encrypted (`gpg --decrypt FILE | tar --list` opens it).', 1);
  }
}

/** Encrypted, but no passphrase was given or none could be obtained. */
export class PassphraseRequiredError extends UcpError {
  constructor() {
    super('This backup is encrypted and no passphrase was given.', 'Pass --passphrase-file FILE (or - for stdin), or enter it when asked.', 2);
  }
}

/** The OpenPGP integrity check (MDC or AEAD tag) failed: the data was modified or damaged. */
export class IntegrityError extends UcpError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, 'The file was modified or damaged after it was written. Use another copy of the backup.', 1, options);
  }
}

/** The OpenPGP data is damaged or ends early (not a passphrase problem). */
export class CorruptArchiveError extends UcpError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, 'The file is damaged or incomplete (was the copy or upload interrupted?). Use another copy of the backup.', 1, options);
  }
}
