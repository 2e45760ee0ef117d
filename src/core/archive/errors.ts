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
  constructor(message: string, options?: { cause?: unknown; hint?: string }) {
    super(message, options?.hint ?? 'The file was modified or damaged after it was written. Use another copy of the backup.', 1, options);
  }
}

/**
 * Encrypted without a modification detection code (a Symmetrically Encrypted Data packet,
 * RFC 4880 §5.7, as `gpg --rfc2440` writes): nothing could tell a changed byte, so it is not
 * a backup to restore from. GnuPG 2.2 refuses it as well ("decryption forced to fail").
 * Said without decrypting: it is the file's fault whatever the passphrase.
 */
export class NotIntegrityProtectedError extends IntegrityError {
  constructor() {
    super('The encrypted data is not integrity protected (no modification detection code, as `gpg --rfc2440` writes): a change to it could not be detected, and gpg 2.2 refuses it too.', {
      hint: 'Encrypt the backup again without --rfc2440 (gpg --symmetric, or ucp-backup backup), which always adds integrity protection.',
    });
  }
}

/**
 * Bytes after the end of the OpenPGP message (RFC 4880 §11.3: one encrypted packet ends it):
 * a second message appended, or anything else. GnuPG 2.2 fails such a file with "encrypted
 * message has been manipulated".
 */
export class TrailingDataError extends IntegrityError {
  constructor(readonly trailingBytes: number) {
    super(`There is data after the end of the OpenPGP message (${trailingBytes} byte${trailingBytes === 1 ? '' : 's'}: something was appended, e.g. a second message); gpg rejects it as "encrypted message has been manipulated".`, {
      hint: 'Use a copy of the backup exactly as it was written.',
    });
  }
}

/** The OpenPGP data is damaged or ends early (not a passphrase problem). */
export class CorruptArchiveError extends UcpError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, 'The file is damaged or incomplete (was the copy or upload interrupted?). Use another copy of the backup.', 1, options);
  }
}

/**
 * A valid OpenPGP form verify cannot read (yet): our fast path and OpenPGP.js both lack it
 * (IDEA). Not a verdict on the file — gpg may read it — and never a wrong passphrase (exit 2:
 * verify could not check it).
 */
export class UnsupportedArchiveError extends UcpError {
  constructor(what: string) {
    super(`This backup uses ${what}, which verify cannot decrypt yet (GnuPG can).`, 'Check it through gpg instead: `gpg --decrypt FILE | ucp-backup verify -` verifies the tar inside the same way.', 2);
  }
}

/**
 * The file asks for more memory than verify gives any input (an Argon2 passphrase stretch
 * set to gigabytes): refused before the memory is taken. Not a verdict on the file (exit 2).
 */
export class MemoryLimitError extends UcpError {
  constructor(what: string, limit: string) {
    super(`This backup ${what}; verify allows ${limit} (it reads any file in bounded memory, and a hostile file could ask for gigabytes).`, 'Decrypt it with the tool that wrote it and verify the tar inside: `<tool> --decrypt FILE | ucp-backup verify -`.', 2);
  }
}
