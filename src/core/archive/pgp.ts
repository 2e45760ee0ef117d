/**
 * OpenPGP symmetric (passphrase) encryption in a form GnuPG 2.2 reads: SEIPD v1 with MDC
 * (`aeadProtect: false`; GnuPG 2.2 cannot read SEIPDv2/AEAD), AES-256, no compression
 * (a tar of certificates and an etcd snapshot compresses little, and compression costs speed).
 * UCP calls its archives "PGP-compatible": `gpg --decrypt` with the passphrase opens them.
 */
import { Readable } from 'node:stream';
import * as openpgp from 'openpgp';

/** The spec's example passphrase `secret12chars` is 12 characters: UCP's minimum. */
export const MIN_PASSPHRASE_LENGTH = 12;

/**
 * Encrypts a byte stream. Memory stays bounded: OpenPGP.js consumes the Web stream as it
 * is read. `ReadableStream.from` is used instead of `Readable.toWeb` (twice as fast here,
 * and toWeb has open backpressure bugs; see TESTBED.md).
 */
export async function encryptStream(input: Readable, passphrase: string): Promise<Readable> {
  const message = await openpgp.createMessage({
    binary: ReadableStream.from(input) as unknown as ReadableStream<Uint8Array>,
    format: 'binary',
  });
  const encrypted = (await openpgp.encrypt({
    message,
    passwords: [passphrase],
    format: 'binary',
    config: {
      aeadProtect: false,
      preferredSymmetricAlgorithm: openpgp.enums.symmetric.aes256,
      preferredCompressionAlgorithm: openpgp.enums.compression.uncompressed,
    },
  })) as unknown as ReadableStream<Uint8Array>;
  return Readable.fromWeb(encrypted as import('node:stream/web').ReadableStream<Uint8Array>);
}
