/**
 * OpenPGP CFB decryption (RFC 4880 §13.9, the non-resyncing variant used by SEIPD v1) on
 * top of the cipher's ECB mode: P[i] = C[i] XOR E(C[i-1]), with C[-1] the zero IV. All
 * E(C[i-1]) of a chunk are independent, so one ECB call computes them in parallel
 * pipelines; OpenSSL's own CFB decrypt runs block by block and is ~5x slower here, slower
 * than `gpg --decrypt`. Decryption only: nothing secret depends on this formulation.
 */
import { createCipheriv, getCiphers, type Cipher } from 'node:crypto';
import { simdXor } from './simdXor';

export interface CipherInfo {
  name: string;
  ecb: string;
  keyLen: number;
  blockSize: number;
}

/** RFC 4880 §9.2 symmetric algorithm ids that OpenSSL can run in ECB mode. */
const CIPHERS: Record<number, CipherInfo> = {
  2: { name: '3DES', ecb: 'des-ede3-ecb', keyLen: 24, blockSize: 8 },
  7: { name: 'AES128', ecb: 'aes-128-ecb', keyLen: 16, blockSize: 16 },
  8: { name: 'AES192', ecb: 'aes-192-ecb', keyLen: 24, blockSize: 16 },
  9: { name: 'AES256', ecb: 'aes-256-ecb', keyLen: 32, blockSize: 16 },
  11: { name: 'CAMELLIA128', ecb: 'camellia-128-ecb', keyLen: 16, blockSize: 16 },
  12: { name: 'CAMELLIA192', ecb: 'camellia-192-ecb', keyLen: 24, blockSize: 16 },
  13: { name: 'CAMELLIA256', ecb: 'camellia-256-ecb', keyLen: 32, blockSize: 16 },
};

/** Names of all RFC 4880 ciphers, for the report (some only run through OpenPGP.js). */
export const CIPHER_NAMES: Record<number, string> = {
  1: 'IDEA', 2: '3DES', 3: 'CAST5', 4: 'BLOWFISH', 7: 'AES128', 8: 'AES192', 9: 'AES256', 10: 'TWOFISH',
  11: 'CAMELLIA128', 12: 'CAMELLIA192', 13: 'CAMELLIA256',
};

let available: Set<string> | undefined;

/** The cipher when this machine's OpenSSL runs it, else undefined (OpenPGP.js handles it). */
export function fastCipher(algo: number): CipherInfo | undefined {
  available ??= new Set(getCiphers());
  const c = CIPHERS[algo];
  return c && available.has(c.ecb) ? c : undefined;
}

export class CfbDecryptor {
  private readonly ecb: Cipher;
  private prev: Buffer;
  private carry: Buffer = Buffer.alloc(0);

  constructor(private readonly cipher: CipherInfo, key: Buffer) {
    this.ecb = createCipheriv(cipher.ecb, key, null);
    this.ecb.setAutoPadding(false);
    this.prev = Buffer.alloc(cipher.blockSize);
  }

  /**
   * Plaintext of the whole blocks so far, in a few pieces. The input is never copied whole
   * (chunks rarely start on a block boundary: packet headers shift them), so memory churn
   * stays at one new buffer per chunk.
   */
  update(chunk: Buffer): Buffer[] {
    const bs = this.cipher.blockSize;
    const out: Buffer[] = [];
    let at = 0;
    if (this.carry.length) {
      const need = bs - this.carry.length;
      if (chunk.length < need) {
        this.carry = Buffer.concat([this.carry, chunk]);
        return out;
      }
      const block = Buffer.concat([this.carry, chunk.subarray(0, need)]);
      const p = this.ecb.update(this.prev);
      xorInto(p, block);
      this.prev = block;
      out.push(p);
      at = need;
    }
    const avail = chunk.length - at;
    const full = avail - (avail % bs);
    if (full > 0) {
      const data = chunk.subarray(at, at + full);
      // E(C[i-1]) for every block: the previous last block, then this data but its last block.
      const head = this.ecb.update(this.prev);
      xorInto(head, data.subarray(0, bs));
      out.push(head);
      if (full > bs) {
        const rest = this.ecb.update(data.subarray(0, full - bs));
        xorInto(rest, data.subarray(bs));
        out.push(rest);
      }
      this.prev = Buffer.from(data.subarray(full - bs));
    }
    this.carry = Buffer.from(chunk.subarray(at + full));
    return out;
  }

  /** The last, partial block (CFB needs no padding). */
  final(): Buffer {
    if (!this.carry.length) return Buffer.alloc(0);
    const keystream = this.ecb.update(this.prev).subarray(0, this.carry.length);
    const out = Buffer.from(keystream);
    xorInto(out, this.carry);
    this.carry = Buffer.alloc(0);
    return out;
  }
}

/** dst ^= src. Large inputs go through WebAssembly SIMD (simdXor.ts), ~5x faster than a JS loop. */
export function xorInto(dst: Buffer, src: Buffer): void {
  const n = dst.length;
  const done = n >= 256 ? simdXor(dst, src) : 0;
  for (let i = done; i < n; i++) dst[i] ^= src[i];
}
