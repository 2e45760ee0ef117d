/**
 * Sanity of `./ucp-backup/<epoch-ms>/etcd.backup.db`, an `etcdctl snapshot save` of ucp-kv:
 * a bbolt database file, to which etcd appends the SHA-256 of the database when it sends a
 * snapshot (etcd's restore checks it when `size % 512 == 32`).
 */
import { createHash, type Hash } from 'node:crypto';
import type { EntryObserver } from '../archive/tarScanner';

export const ETCD_SNAPSHOT = /^(\.\/)?ucp-backup\/[^/]+\/etcd\.backup\.db$/;

/** bbolt's meta page (page 0): page header (16 bytes), then magic, version, page size… */
const BOLT_MAGIC = 0xed0cdaed;
const BOLT_VERSION = 2;
const HEAD_BYTES = 4096;

export class EtcdSnapshotObserver implements EntryObserver {
  private head: Buffer[] = [];
  private headLen = 0;
  private size = 0;
  /** SHA-256 of everything but the last 32 bytes, kept 32 bytes behind the input. */
  private readonly lagging: Hash = createHash('sha256');
  private tail = Buffer.alloc(0);
  result?: { pass: boolean; reason: string };

  data(chunk: Buffer): void {
    this.size += chunk.length;
    if (this.headLen < HEAD_BYTES) {
      const piece = chunk.subarray(0, HEAD_BYTES - this.headLen);
      this.head.push(Buffer.from(piece));
      this.headLen += piece.length;
    }
    if (chunk.length >= 32) {
      this.lagging.update(this.tail);
      this.lagging.update(chunk.subarray(0, chunk.length - 32));
      this.tail = Buffer.from(chunk.subarray(chunk.length - 32));
    } else {
      const joined = Buffer.concat([this.tail, chunk]);
      this.lagging.update(joined.subarray(0, Math.max(0, joined.length - 32)));
      this.tail = joined.subarray(Math.max(0, joined.length - 32));
    }
  }

  end(): void {
    this.result = checkBolt(Buffer.concat(this.head), this.size, () => this.lagging.digest().equals(this.tail));
  }
}

function checkBolt(head: Buffer, size: number, appendedHashMatches: () => boolean): { pass: boolean; reason: string } {
  if (size < 64) return { pass: false, reason: `the etcd snapshot is ${size} bytes: too small to be a bbolt database` };
  const magic = head.readUInt32LE(16);
  if (magic !== BOLT_MAGIC) {
    return { pass: false, reason: `no bbolt magic 0xED0CDAED in the meta page (found 0x${magic.toString(16).toUpperCase()}): not an etcd snapshot` };
  }
  const version = head.readUInt32LE(20);
  if (version !== BOLT_VERSION) return { pass: false, reason: `bbolt version ${version}, expected ${BOLT_VERSION}` };
  const pageSize = head.readUInt32LE(24);
  if (pageSize < 512 || pageSize > 1 << 20 || (pageSize & (pageSize - 1)) !== 0) return { pass: false, reason: `implausible bbolt page size ${pageSize}` };
  if (head.length >= 80 && head.readBigUInt64LE(72) !== fnv1a64(head.subarray(16, 72))) {
    return { pass: false, reason: 'the bbolt meta page checksum does not match: the snapshot is damaged' };
  }
  const pages = Number(head.readBigUInt64LE(56));
  const hashed = size % 512 === 32;
  const dbSize = hashed ? size - 32 : size;
  if (pages < 2 || pages * pageSize > dbSize) {
    return { pass: false, reason: `the snapshot is ${dbSize} bytes but its meta page says ${pages} pages of ${pageSize}: it is truncated` };
  }
  if (hashed && !appendedHashMatches()) return { pass: false, reason: 'the SHA-256 etcd appended to the snapshot does not match its content' };
  const mib = (size / 1048576).toFixed(1);
  return { pass: true, reason: `bbolt v${version}, ${pages} pages of ${pageSize} bytes (${mib} MiB)${hashed ? ', etcd SHA-256 matches' : ''}` };
}

/** FNV-1a 64-bit, bbolt's meta checksum. */
function fnv1a64(data: Buffer): bigint {
  let h = 0xcbf29ce484222325n;
  for (const b of data) h = ((h ^ BigInt(b)) * 0x100000001b3n) & 0xffffffffffffffffn;
  return h;
}
