/** String-to-key (RFC 4880 §3.7): how a passphrase becomes a cipher key. */
import { createHash } from 'node:crypto';

const HASHES: Record<number, { name: string; size: number }> = {
  1: { name: 'md5', size: 16 },
  2: { name: 'sha1', size: 20 },
  3: { name: 'ripemd160', size: 20 },
  8: { name: 'sha256', size: 32 },
  9: { name: 'sha384', size: 48 },
  10: { name: 'sha512', size: 64 },
  11: { name: 'sha224', size: 28 },
};

export interface S2kSpec {
  type: number;
  hash: number;
  salt?: Buffer;
  /** Bytes to hash for type 3 (iterated and salted). */
  count?: number;
}

/** Parses an S2K specifier; returns undefined for kinds we leave to OpenPGP.js (e.g. Argon2). */
export function parseS2k(b: Buffer, at: number): { spec: S2kSpec; end: number } | undefined {
  const type = b[at];
  const hash = b[at + 1];
  if (!HASHES[hash]) return undefined;
  if (type === 0) return { spec: { type, hash }, end: at + 2 };
  if (type === 1) return { spec: { type, hash, salt: b.subarray(at + 2, at + 10) }, end: at + 10 };
  if (type === 3) {
    const c = b[at + 10];
    return { spec: { type, hash, salt: b.subarray(at + 2, at + 10), count: (16 + (c & 15)) << ((c >> 4) + 6) }, end: at + 11 };
  }
  return undefined;
}

export function deriveKey(spec: S2kSpec, passphrase: string, keyLen: number): Buffer {
  const h = HASHES[spec.hash];
  const data = Buffer.concat([spec.salt ?? Buffer.alloc(0), Buffer.from(passphrase, 'utf8')]);
  const total = spec.type === 3 ? Math.max(spec.count ?? 0, data.length) : data.length;
  // Repeat salt+passphrase into one block so a 65 MB iteration count is a few hundred hash calls.
  const reps = Math.max(1, Math.floor(65536 / Math.max(1, data.length)));
  const block = Buffer.concat(Array(reps).fill(data));
  const parts: Buffer[] = [];
  for (let i = 0; parts.length * h.size < keyLen; i++) {
    const hash = createHash(h.name);
    hash.update(Buffer.alloc(i)); // RFC 4880 §3.7.1.1: context i is preloaded with i zero octets
    let left = total;
    while (left >= block.length) {
      hash.update(block);
      left -= block.length;
    }
    if (left > 0) hash.update(block.subarray(0, left));
    parts.push(hash.digest());
  }
  return Buffer.concat(parts).subarray(0, keyLen);
}
