/**
 * Streaming decryption of passphrase-encrypted OpenPGP messages with Node's own crypto:
 * SKESK v4 + SEIPD v1 (MDC), which is what `gpg --symmetric` (all its defaults and
 * options) and our engine (OpenPGP.js, `aeadProtect: false`) write. Plaintext flows out
 * as it is decrypted, never gathered; the MDC is checked at the very end, so a failure
 * there comes after all plaintext was emitted: callers must treat the result as
 * unusable until the generator has finished without error (TESTBED.md: gpg does the same).
 * Anything else (AEAD, CAST5 …) raises NeedsOpenPgpJs before any plaintext is out;
 * data without an MDC (SED) is refused outright, as GnuPG 2.2 refuses it.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createInflate, createInflateRaw } from 'node:zlib';
import { UcpError } from '../errors';
import { ByteReader } from './byteReader';
import { bunzip2 } from './bzip2';
import { CfbDecryptor, CIPHER_NAMES, fastCipher, type CipherInfo } from './cfb';
import { CorruptArchiveError, IntegrityError, NotIntegrityProtectedError, WrongPassphraseError } from './errors';
import { packetBody, readPacketHeader, Tag } from './openpgpPackets';
import { ParallelSha1 } from './parallelSha1';
import { deriveKey, parseS2k } from './s2k';

/** What the message turned out to use, for the report. Filled in as it is read. */
export interface DecryptInfo {
  cipher?: string;
  compression?: string;
  /** The passphrase passed the quick check (RFC 4880 §5.13): later failures are damage. */
  passphraseChecked?: boolean;
  /**
   * The session key, derived here for the OpenPGP.js fallback (never reported): given the
   * passphrase, OpenPGP.js builds the whole iterated S2K input in one buffer (gpg's count is
   * up to 65 MB, twice for 256-bit keys: ~190 MiB peak RSS for a tiny archive).
   */
  sessionKey?: { data: Uint8Array; algorithm: string };
}

/** Internal signal: this message needs OpenPGP.js. Raised before any plaintext is emitted. */
export class NeedsOpenPgpJs extends Error {}

export const COMPRESSION_NAMES: Record<number, string> = { 0: 'none', 1: 'ZIP', 2: 'ZLIB', 3: 'BZIP2' };

export async function* decryptOpenPgp(
  source: AsyncIterable<Buffer>,
  getPassphrase: () => Promise<string>,
  info: DecryptInfo,
  /** Hash the MDC on a second thread: worth its ~30 ms start only for large inputs. */
  parallelHash = false,
): AsyncGenerator<Buffer> {
  const r = new ByteReader(source);
  const skesks: Buffer[] = [];
  for (;;) {
    const h = await readPacketHeader(r);
    if (h.tag === Tag.SEIPD) {
      const body = new ByteReader(packetBody(r, h, 'reuse'));
      if ((await body.readByte()) !== 1) throw new NeedsOpenPgpJs('SEIPD v2');
      const { cipher, key } = await sessionKey(skesks, await getPassphrase(), info);
      yield* literalData(stripMdc(decrypt(body.rest(), cipher, key), cipher.blockSize, info, parallelHash), info, 0);
      // The message ends with this packet; verify.ts judges what follows (messageEnd.ts).
      return;
    }
    const body = h.indeterminate ? Buffer.alloc(0) : Buffer.concat(await collect(packetBody(r, h)));
    if (h.tag === Tag.SKESK) skesks.push(body);
    else if (h.tag === Tag.PKESK) {
      throw new UcpError('This file is encrypted to a public key, not with a passphrase.', 'UCP backups are encrypted with a passphrase (`--passphrase`); decrypt this file with `gpg --decrypt` and the private key.', 1);
    } else if (h.tag === Tag.SED) throw new NotIntegrityProtectedError();
    else if (h.tag === Tag.AEAD) throw new NeedsOpenPgpJs(`packet ${h.tag}`);
    else if (h.tag !== Tag.Marker) throw new CorruptArchiveError(`The OpenPGP data is damaged (unexpected packet type ${h.tag} before the encrypted data).`);
  }
}

async function collect(it: AsyncIterable<Buffer>): Promise<Buffer[]> {
  const out: Buffer[] = [];
  for await (const b of it) out.push(b);
  return out;
}

/** The session key from a SKESK v4 (RFC 4880 §5.3): the S2K key itself, or decrypted from it. */
async function sessionKey(skesks: Buffer[], passphrase: string, info: DecryptInfo): Promise<{ cipher: CipherInfo; key: Buffer }> {
  const p = skesks[0];
  if (!p) throw new CorruptArchiveError('The OpenPGP data has no passphrase packet (it is not a passphrase-encrypted backup).');
  if (p[0] !== 4 || skesks.length > 1) throw new NeedsOpenPgpJs(`SKESK v${p[0]}`);
  const algo = p[1];
  info.cipher = CIPHER_NAMES[algo] ?? `cipher ${algo}`;
  const s2k = parseS2k(p, 2);
  const kekCipher = fastCipher(algo);
  const esk = s2k ? p.subarray(s2k.end) : Buffer.alloc(0);
  if (s2k && !kekCipher && esk.length === 0 && OPENPGPJS_KEY_LENGTHS[algo]) {
    // CAST5, Blowfish, Twofish: OpenSSL lacks them, but the key is the S2K output itself.
    info.sessionKey = { data: deriveKey(s2k.spec, passphrase, OPENPGPJS_KEY_LENGTHS[algo]), algorithm: OPENPGPJS_NAMES[algo] };
  }
  if (!s2k || !kekCipher) throw new NeedsOpenPgpJs('S2K or cipher');
  const kek = deriveKey(s2k.spec, passphrase, kekCipher.keyLen);
  if (esk.length === 0) return handOver(info, algo, { cipher: kekCipher, key: kek });
  const dec = new CfbDecryptor(kekCipher, kek);
  const plain = Buffer.concat([...dec.update(esk), dec.final()]);
  const sessionAlgo = plain[0];
  const name = CIPHER_NAMES[sessionAlgo];
  const cipher = fastCipher(sessionAlgo);
  // A wrong passphrase decrypts the session key to noise: an unknown algorithm or a wrong length.
  if (!name) throw new WrongPassphraseError();
  info.cipher = name;
  if (!cipher) {
    const len = OPENPGPJS_KEY_LENGTHS[sessionAlgo];
    if (len && plain.length === 1 + len) info.sessionKey = { data: Buffer.from(plain.subarray(1)), algorithm: OPENPGPJS_NAMES[sessionAlgo] };
    throw new NeedsOpenPgpJs(`session cipher ${name}`);
  }
  if (plain.length !== 1 + cipher.keyLen) throw new WrongPassphraseError();
  return handOver(info, sessionAlgo, { cipher, key: plain.subarray(1) });
}

/** OpenPGP.js's names (openpgp.enums.symmetric) and key sizes of the ciphers it decrypts. */
const OPENPGPJS_NAMES: Record<number, string> = { 2: 'tripledes', 3: 'cast5', 4: 'blowfish', 7: 'aes128', 8: 'aes192', 9: 'aes256', 10: 'twofish' };
const OPENPGPJS_KEY_LENGTHS: Record<number, number> = { 3: 16, 4: 16, 10: 32 };

/** Keeps the session key for OpenPGP.js, in case the data inside needs it (bzip2 …). */
function handOver(info: DecryptInfo, algo: number, k: { cipher: CipherInfo; key: Buffer }): { cipher: CipherInfo; key: Buffer } {
  if (OPENPGPJS_NAMES[algo]) info.sessionKey = { data: Buffer.from(k.key), algorithm: OPENPGPJS_NAMES[algo] };
  return k;
}

/** Small pieces are gathered up to this size: OpenSSL and the XOR are much faster on big blocks. */
const MIN_CIPHER_CALL = 64 * 1024;

/**
 * The CFB plaintext of a ciphertext stream. Every input piece is used up (decrypted or copied)
 * before the next is pulled, which lets packetBody reuse its buffer ('reuse').
 */
async function* decrypt(ciphertext: AsyncIterable<Buffer>, cipher: CipherInfo, key: Buffer): AsyncGenerator<Buffer> {
  const d = new CfbDecryptor(cipher, key);
  const acc = Buffer.allocUnsafeSlow(MIN_CIPHER_CALL);
  let accLen = 0;
  for await (let c of ciphertext) {
    while (c.length) {
      if (accLen === 0 && c.length >= MIN_CIPHER_CALL) {
        yield* d.update(c);
        break;
      }
      const n = c.copy(acc, accLen);
      accLen += n;
      c = c.subarray(n);
      if (accLen === MIN_CIPHER_CALL) {
        yield* d.update(acc);
        accLen = 0;
      }
    }
  }
  if (accLen) yield* d.update(acc.subarray(0, accLen));
  const last = d.final();
  if (last.length) yield last;
}

const MDC_LEN = 22; // 0xD3 0x14 + SHA-1

/**
 * Checks and removes the random prefix (its repeated last two octets are the "quick check"
 * that tells a wrong passphrase, RFC 4880 §5.13) and the trailing Modification Detection Code.
 */
async function* stripMdc(plain: AsyncIterable<Buffer>, bs: number, info: DecryptInfo, parallelHash: boolean): AsyncGenerator<Buffer> {
  const r = new ByteReader(plain, 'encrypted data');
  let prefix: Buffer;
  try {
    prefix = await r.readExact(bs + 2);
  } catch {
    throw new CorruptArchiveError('The encrypted data ends early (the file is truncated).');
  }
  if (prefix[bs] !== prefix[bs - 2] || prefix[bs + 1] !== prefix[bs - 1]) throw new WrongPassphraseError();
  info.passphraseChecked = true;
  const worker = parallelHash ? new ParallelSha1() : undefined;
  const sha1 = worker ? undefined : createHash('sha1');
  const hash = async (b: Buffer) => (worker ? worker.update(b) : sha1!.update(b));
  try {
    await hash(prefix);
    let tail = Buffer.alloc(0);
    for await (const chunk of r.rest()) {
      if (chunk.length >= MDC_LEN) {
        if (tail.length) {
          await hash(tail);
          yield tail;
        }
        const out = chunk.subarray(0, chunk.length - MDC_LEN);
        tail = Buffer.from(chunk.subarray(chunk.length - MDC_LEN));
        await hash(out);
        yield out;
      } else {
        const joined = Buffer.concat([tail, chunk]);
        const out = joined.subarray(0, joined.length - MDC_LEN);
        tail = Buffer.from(joined.subarray(joined.length - MDC_LEN));
        if (out.length) {
          await hash(out);
          yield out;
        }
      }
    }
    if (tail.length < MDC_LEN || tail[0] !== 0xd3 || tail[1] !== 0x14) {
      throw new CorruptArchiveError('The encrypted data ends early or is damaged (no integrity code at its end: the file is truncated).');
    }
    await hash(tail.subarray(0, 2));
    const digest = worker ? await worker.digest() : sha1!.digest();
    if (!timingSafeEqual(digest, tail.subarray(2))) {
      throw new IntegrityError('OpenPGP integrity check failed: Modification detected (the MDC does not match).');
    }
  } finally {
    worker?.close();
  }
}

/** The literal data inside the decrypted packets, through one level of compression. */
async function* literalData(plain: AsyncIterable<Buffer>, info: DecryptInfo, depth: number): AsyncGenerator<Buffer> {
  const r = new ByteReader(plain, 'decrypted data');
  let literal = false;
  while (!(await r.atEnd())) {
    const h = await readPacketHeader(r);
    // The literal data's pieces go to the tar reader as they are: no need to join them.
    const body = new ByteReader(packetBody(r, h, 'pieces'), 'decrypted data');
    if (h.tag === Tag.Compressed && depth === 0 && !literal) {
      const algo = await body.readByte();
      info.compression = COMPRESSION_NAMES[algo] ?? `compression ${algo}`;
      if (algo === 0) yield* literalData(body.rest(), info, 1);
      else if (algo === 1 || algo === 2) yield* literalData(inflate(body.rest(), algo === 1), info, 1);
      else if (algo === 3) yield* literalData(bunzip2(body.rest()), info, 1);
      else throw new NeedsOpenPgpJs(info.compression);
      literal = true;
    } else if (h.tag === Tag.Literal && !literal) {
      info.compression ??= 'none';
      await body.readByte(); // format: binary/text/utf8; a tar is bytes either way
      await body.readExact(await body.readByte()); // file name
      await body.readExact(4); // date
      yield* body.rest();
      literal = true;
    } else if ([Tag.OnePassSignature, Tag.Signature, Tag.Marker].includes(h.tag)) {
      for await (const _ of body.rest()); // signatures cannot be checked without keys; skip
    } else {
      throw new CorruptArchiveError(`The decrypted data is damaged (unexpected packet type ${h.tag}).`);
    }
  }
  if (!literal) throw new CorruptArchiveError('The decrypted data holds no file.');
}

async function* inflate(compressed: AsyncIterable<Buffer>, raw: boolean): AsyncGenerator<Buffer> {
  const z = raw ? createInflateRaw() : createInflate();
  // The pipeline also drains the source to its end, so the MDC after it is always checked.
  const done = pipeline(Readable.from(compressed), z);
  done.catch(() => undefined); // surfaced below through the iteration or the await
  let ended = false;
  try {
    for await (const c of z) yield c as Buffer;
    ended = true;
  } catch (err) {
    const first = await done.then(() => err, (e: unknown) => e);
    throw zlibError(first instanceof UcpError ? first : err);
  } finally {
    if (!ended) z.destroy(); // the consumer stopped early
  }
  await done;
}

function zlibError(err: unknown): unknown {
  if (err instanceof UcpError) return err;
  return new CorruptArchiveError(`The decrypted data is damaged (decompression failed: ${(err as Error).message}).`, { cause: err });
}
