/**
 * OpenPGP symmetric (passphrase) encryption in a form GnuPG 2.2 reads: SEIPD v1 with MDC
 * (GnuPG 2.2 cannot read SEIPDv2/AEAD), AES-256, no compression
 * (a tar of certificates and an etcd snapshot compresses little, and compression costs speed).
 * UCP calls its archives "PGP-compatible": `gpg --decrypt` with the passphrase opens them.
 */
import { PassThrough, Readable } from 'node:stream';
import type * as OpenPgp from 'openpgp';
import { UcpError } from '../errors';
import { CorruptArchiveError, IntegrityError, MemoryLimitError, WrongPassphraseError } from './errors';
import { createEncryptor } from './seipdEncrypt';

/** The spec's example passphrase `secret12chars` is 12 characters: UCP's minimum. */
export const MIN_PASSPHRASE_LENGTH = 12;

/**
 * Encrypts a byte stream: SKESK v4 + SEIPD v1 (AES-256, MDC, no compression) written with
 * Node's crypto by seipdEncrypt.ts (OpenPGP.js ran at ~40 MiB/s here; docs/bench-backup.md).
 */
export async function encryptStream(input: Readable, passphrase: string, options: { mdcThread?: boolean } = {}): Promise<Readable> {
  const encryptor = createEncryptor(passphrase, options);
  input.on('error', (err) => encryptor.destroy(err));
  return input.pipe(encryptor);
}

/**
 * Decrypts a passphrase-encrypted OpenPGP message with OpenPGP.js, as a stream. Used for
 * what the Node-crypto fast path (openpgpDecrypt.ts) leaves out: armored input, AEAD,
 * bzip2, CAST5/Blowfish/Twofish.
 *
 * `allowUnauthenticatedStream`: without it OpenPGP.js holds the whole plaintext until the
 * integrity check (888 MiB RSS for 256 MiB, TESTBED.md). With it, plaintext flows out
 * first and a failed check ("Modification detected") errors the stream at its end:
 * callers must not act on the plaintext before the stream ended cleanly.
 */
export async function decryptStream(
  input: Readable,
  passphrase: string,
  options: { armored?: boolean; sessionKey?: { data: Uint8Array; algorithm: string } } = {},
): Promise<Readable> {
  // Loaded only here: a backup never needs OpenPGP.js (its load costs time and memory).
  const openpgp = await import('openpgp');
  const web = ReadableStream.from(input) as unknown as ReadableStream<Uint8Array>;
  let message: OpenPgp.Message<ReadableStream<Uint8Array>>;
  try {
    message = options.armored
      ? await openpgp.readMessage({ armoredMessage: web.pipeThrough(new TextDecoderStream() as unknown as TransformStream<Uint8Array, string>) as ReadableStream<string> }) as unknown as OpenPgp.Message<ReadableStream<Uint8Array>>
      : await openpgp.readMessage({ binaryMessage: web });
  } catch (err) {
    throw new CorruptArchiveError(`The OpenPGP data is damaged: ${(err as Error).message}`, { cause: err });
  }
  let decrypted: ReadableStream<Uint8Array>;
  try {
    ({ data: decrypted } = (await openpgp.decrypt({
      message,
      // A session key derived by our S2K (openpgpDecrypt.ts) spares OpenPGP.js's, which holds
      // the whole iterated input (up to 65 MB per pass) in memory.
      ...(options.sessionKey ? { sessionKeys: options.sessionKey as OpenPgp.SessionKey } : { passwords: [passphrase] }),
      format: 'binary',
      // Argon2 takes 2^m KiB: a tiny hostile file with m = 20 made verify take 1.2 GiB.
      config: { allowUnauthenticatedStream: true, maxArgon2MemoryExponent: MAX_ARGON2_EXPONENT },
    })) as unknown as { data: ReadableStream<Uint8Array> });
  } catch (err) {
    throw openpgpError(err);
  }
  const out = Readable.fromWeb(decrypted as import('node:stream/web').ReadableStream<Uint8Array>);
  // Errors raised inside the Web stream (the integrity check at the end) become typed errors.
  const typed = new PassThrough();
  out.on('error', (err) => typed.destroy(openpgpError(err) as Error));
  return out.pipe(typed);
}

/**
 * Argon2 S2K memory verify gives (2^15 KiB = 32 MiB): with OpenPGP.js's own 64 MiB default a
 * tiny archive peaked at 154 MiB. UCP backups (gpg 2.2, our engine) use iterated S2K.
 */
const MAX_ARGON2_EXPONENT = 15;

/** OpenPGP.js error text → the admin's error. */
export function openpgpError(err: unknown): unknown {
  if (err instanceof UcpError) return err;
  const msg = (err as Error)?.message ?? String(err);
  if (/Argon2 required memory exceeds/i.test(msg)) return new MemoryLimitError('stretches its passphrase with Argon2 that needs more than 32 MiB of memory', 'at most 32 MiB');
  if (/Modification detected|authentication tag|integrity/i.test(msg)) {
    return new IntegrityError(`OpenPGP integrity check failed: ${msg}`, { cause: err });
  }
  if (/Session key decryption failed|Incorrect key passphrase|decrypting session keys/i.test(msg)) {
    return new WrongPassphraseError(undefined, { cause: err });
  }
  return new CorruptArchiveError(`The OpenPGP data is damaged: ${msg}`, { cause: err });
}
