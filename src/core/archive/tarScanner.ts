/**
 * A push-style tar reader that only lists: ustar, GNU (long names 'L'/'K', base-256
 * numbers) and pax ('x'/'g' records). Entry data is handed to an observer and dropped, so
 * memory stays flat whatever the size. It never throws on bad data: it records the first
 * problem and ignores the rest, so the layer above can still finish its own checks (the
 * OpenPGP integrity code comes after all the data).
 */
import { isUtf8 } from 'node:buffer';
import { displayName } from '../verify/safeName';
import { tarChecksumOk } from './detect';
import type { EntryType } from './entry';

export interface TarHeader {
  name: string;
  type: EntryType;
  /** The raw type flag, e.g. "0", "5". */
  typeflag: string;
  /** Bytes of data stored in the archive for this entry. */
  size: number;
  /**
   * A GNU sparse member (old GNU 'S', or pax sparse 0.0/0.1/1.0): its size as `tar tv` shows
   * it, holes included. Its stored data is not the file's content (the holes are left out, and
   * sparse 1.0 starts with its map): content observers should not read it as the file.
   */
  sparse?: { realSize: number };
  mode: number;
  uid: number;
  gid: number;
  uname?: string;
  gname?: string;
  /** Seconds since the epoch. */
  mtime: number;
  linkname?: string;
  /** Offset of the header in the tar stream. */
  offset: number;
}

export interface EntryObserver {
  data(chunk: Buffer): void;
  end(): void;
}

const TYPES: Record<string, EntryType> = {
  '0': 'file', '\0': 'file', '1': 'hardlink', '2': 'symlink', '3': 'char', '4': 'block', '5': 'directory', '6': 'fifo', '7': 'contiguous', S: 'sparse',
};
/** Types whose size field does not announce data blocks (POSIX ustar). */
const NO_DATA = new Set(['1', '2', '3', '4', '5', '6']);
/** Meta entries that describe the next header; their data is kept (bounded) and parsed. */
const META_MAX = 1 << 20;

export class TarScanner {
  /** Bytes consumed so far. */
  offset = 0;
  entries = 0;
  /** First problem found, if any; once set the rest of the input is ignored. */
  error?: string;
  /** Whether the end-of-archive marker (two zero blocks) was seen. */
  complete = false;

  private block = Buffer.alloc(512);
  private blockFill = 0;
  private zeroBlocks = 0;
  private state: 'header' | 'data' | 'padding' | 'meta' | 'end' | 'sparseExt' = 'header';
  /** An old GNU sparse header whose extension blocks (more of the map) come before its data. */
  private sparseHeader?: TarHeader;
  private remaining = 0;
  private padding = 0;
  private current?: { header: TarHeader; observer?: EntryObserver };
  private meta?: { typeflag: string; parts: Buffer[]; size: number };
  private longName?: string;
  private longLink?: string;
  private pax: Record<string, string> = {};
  private paxGlobal: Record<string, string> = {};

  constructor(private readonly onEntry: (h: TarHeader) => EntryObserver | undefined) {}

  write(chunk: Buffer): void {
    let at = 0;
    while (at < chunk.length && !this.error) {
      if (this.state === 'end' && this.zeroBlocks >= 2) {
        // Past the end marker nothing is read (GNU tar ignores it): only counted, so a bomb
        // of zeros after the end is not copied block by block.
        const n = chunk.length - at;
        this.blockFill = (this.blockFill + n) % 512;
        this.offset += n;
        return;
      }
      switch (this.state) {
        case 'header':
        case 'sparseExt':
        case 'end': {
          const n = Math.min(512 - this.blockFill, chunk.length - at);
          chunk.copy(this.block, this.blockFill, at, at + n);
          this.blockFill += n;
          at += n;
          this.offset += n;
          if (this.blockFill === 512) {
            this.blockFill = 0;
            this.onBlock();
          }
          break;
        }
        case 'data':
        case 'meta': {
          const n = Math.min(this.remaining, chunk.length - at);
          const piece = chunk.subarray(at, at + n);
          if (this.state === 'data') this.current?.observer?.data(piece);
          else if (this.meta && this.meta.size <= META_MAX) this.meta.parts.push(Buffer.from(piece));
          at += n;
          this.offset += n;
          this.remaining -= n;
          if (this.remaining === 0) this.finishData();
          break;
        }
        case 'padding': {
          const n = Math.min(this.padding, chunk.length - at);
          at += n;
          this.offset += n;
          this.padding -= n;
          if (this.padding === 0) this.state = 'header';
          break;
        }
      }
    }
  }

  /** Call at the end of the input: a tar that stops early is reported here. */
  end(): void {
    if (this.error) return;
    if (this.state === 'data' || this.state === 'meta') {
      const name = this.current?.header.name ?? 'a long-name/pax header';
      this.fail(`the archive ends inside the data of "${displayName(name)}" (${this.remaining} bytes missing): it is truncated`);
    } else if (this.state === 'padding') {
      this.fail('the archive ends inside the padding of the last entry: it is truncated');
    } else if (this.state === 'sparseExt') {
      this.fail(`the archive ends inside the sparse map of "${displayName(this.sparseHeader?.name ?? '')}": it is truncated`);
    } else if (this.blockFill > 0) {
      this.fail(`the archive ends inside a 512-byte block at offset ${this.offset}: it is truncated`);
    } else if (this.state !== 'end') {
      this.fail(this.offset === 0 ? 'the archive is empty' : 'the archive has no end-of-archive marker (two zero blocks): it is truncated');
    } else if (this.zeroBlocks < 2) {
      this.fail('the archive ends after a single zero block (GNU tar: "A lone zero block"): it is probably truncated');
    } else this.complete = true;
  }

  private fail(reason: string): void {
    this.error ??= reason;
  }

  private onBlock(): void {
    const b = this.block;
    if (this.state === 'sparseExt') {
      // GNU tar: 21 more map entries of 24 bytes, then "isextended" at 504. Not in the size.
      if (b[504]) return;
      return this.startEntry(this.sparseHeader!);
    }
    if (this.state === 'end' || isZero(b)) {
      // Data after the end marker is padding to the record size (GNU tar: 10240 bytes).
      if (this.state === 'header' || isZero(b)) this.zeroBlocks += isZero(b) ? 1 : 0;
      this.state = 'end';
      return;
    }
    const headerOffset = this.offset - 512;
    if (!tarChecksumOk(b)) return this.fail(`bad header checksum at offset ${headerOffset}: the archive is damaged or not a tar`);
    const typeflag = String.fromCharCode(b[156] || 0x30 /* '\0' is a regular file */);
    const size = readNumber(b, 124, 12);
    if (size === undefined) return this.fail(`bad size field at offset ${headerOffset}`);
    if (typeflag === 'L' || typeflag === 'K' || typeflag === 'x' || typeflag === 'g') {
      this.meta = { typeflag, parts: [], size };
      this.current = undefined;
      return this.startData(size, 'meta');
    }
    const pax = { ...this.paxGlobal, ...this.pax };
    const ustar = b.subarray(257, 265).toString('latin1') === 'ustar\x0000';
    const prefix = ustar ? cString(b, 345, 155) : '';
    // Sparse 0.1 and 1.0 put "./GNUSparseFile.<pid>/<name>" in the header, the name in GNU.sparse.name.
    let name = pax['GNU.sparse.name'] ?? this.longName ?? pax.path ?? (prefix ? `${prefix}/${cString(b, 0, 100)}` : cString(b, 0, 100));
    if (typeflag === '5' && !name.endsWith('/') && name) name += '/';
    const sparse = sparseSize(typeflag, b, pax);
    if (sparse === null) return this.fail(`bad sparse size for "${displayName(name)}" at offset ${headerOffset}`);
    const header: TarHeader = {
      name,
      type: sparse !== undefined ? 'sparse' : TYPES[typeflag] ?? 'other',
      typeflag,
      size: pax.size !== undefined ? Number(pax.size) : size,
      mode: readNumber(b, 100, 8) ?? 0,
      uid: pax.uid !== undefined ? Number(pax.uid) : readNumber(b, 108, 8) ?? 0,
      gid: pax.gid !== undefined ? Number(pax.gid) : readNumber(b, 116, 8) ?? 0,
      uname: pax.uname ?? (cString(b, 265, 32) || undefined),
      gname: pax.gname ?? (cString(b, 297, 32) || undefined),
      mtime: pax.mtime !== undefined ? Number(pax.mtime) : readNumber(b, 136, 12) ?? 0,
      linkname: this.longLink ?? pax.linkpath ?? (cString(b, 157, 100) || undefined),
      offset: headerOffset,
      sparse: sparse !== undefined ? { realSize: sparse } : undefined,
    };
    this.longName = this.longLink = undefined;
    this.pax = {};
    this.entries++;
    if (typeflag === 'S' && b[482]) {
      this.sparseHeader = header;
      this.state = 'sparseExt';
      return;
    }
    this.startEntry(header);
  }

  private startEntry(header: TarHeader): void {
    this.sparseHeader = undefined;
    const dataSize = NO_DATA.has(header.typeflag) ? 0 : header.size;
    if (!Number.isSafeInteger(dataSize) || dataSize < 0) return this.fail(`bad size for "${displayName(header.name)}"`);
    this.current = { header, observer: this.onEntry(header) };
    this.startData(dataSize, 'data');
  }

  private startData(size: number, state: 'data' | 'meta'): void {
    this.remaining = size;
    this.padding = (512 - (size % 512)) % 512;
    this.state = state;
    if (size === 0) this.finishData();
  }

  private finishData(): void {
    if (this.state === 'meta' && this.meta) {
      const text = Buffer.concat(this.meta.parts);
      if (this.meta.typeflag === 'L') this.longName = cString(text, 0, text.length);
      else if (this.meta.typeflag === 'K') this.longLink = cString(text, 0, text.length);
      else Object.assign(this.meta.typeflag === 'g' ? this.paxGlobal : this.pax, parsePax(text));
      this.meta = undefined;
    } else {
      this.current?.observer?.end();
      this.current = undefined;
    }
    this.state = this.padding ? 'padding' : 'header';
  }
}

function isZero(b: Buffer): boolean {
  for (let i = 0; i < b.length; i++) if (b[i] !== 0) return false;
  return true;
}

function cString(b: Buffer, at: number, len: number): string {
  const field = b.subarray(at, at + len);
  const nul = field.indexOf(0);
  return decode(field.subarray(0, nul < 0 ? field.length : nul));
}

/**
 * Names are bytes. Not UTF-8 (an old latin-1 tar, or a raw C1 byte such as 0x9b, CSI to an
 * 8-bit terminal): read byte for byte, so every byte stays visible (as U+0080–U+00FF) and
 * its C1 controls are flagged, instead of all becoming U+FFFD.
 */
function decode(bytes: Buffer): string {
  const s = bytes.toString('utf8');
  return !s.includes('\ufffd') || isUtf8(bytes) ? s : bytes.toString('latin1');
}

/**
 * Octal, or GNU base-256 when the high bit of the first byte is set: big-endian two's
 * complement in the rest of the field, bit 6 of the first byte the sign (GNU tar's
 * from_header: 0x80 positive, 0xff negative, e.g. an mtime before 1970). Values past 2^53 are
 * not safe integers and are refused by the callers that need exactness (sizes).
 */
function readNumber(b: Buffer, at: number, len: number): number | undefined {
  if (b[at] & 0x80) {
    let v = (b[at] & 0x3f) - (b[at] & 0x40);
    for (let i = 1; i < len; i++) v = v * 256 + b[at + i];
    return v;
  }
  const s = b.subarray(at, at + len).toString('latin1').replace(/^ +/, '').split(/[\0 ]/)[0];
  if (s === '') return 0;
  return /^[0-7]+$/.test(s) ? parseInt(s, 8) : undefined;
}

/**
 * The real size of a GNU sparse member, undefined when it is not one, null when unreadable:
 * old GNU 'S' keeps it at offset 483, pax sparse 0.0/0.1 in GNU.sparse.size, 1.0 in
 * GNU.sparse.realsize (GNU tar's sparse.c).
 */
function sparseSize(typeflag: string, b: Buffer, pax: Record<string, string>): number | undefined | null {
  let size: number | undefined;
  if (typeflag === 'S') size = readNumber(b, 483, 12);
  else if (pax['GNU.sparse.realsize'] !== undefined) size = Number(pax['GNU.sparse.realsize']);
  else if (pax['GNU.sparse.size'] !== undefined) size = Number(pax['GNU.sparse.size']);
  else if (pax['GNU.sparse.major'] === undefined && pax['GNU.sparse.numblocks'] === undefined) return undefined;
  return size !== undefined && Number.isSafeInteger(size) && size >= 0 ? size : null;
}

/**
 * pax records we use; the rest are dropped, so global ('g') headers cannot make the scanner
 * keep an unbounded set of keys (each header may bring a MiB of new ones).
 */
const PAX_KEYS = new Set(['path', 'linkpath', 'size', 'uid', 'gid', 'uname', 'gname', 'mtime', 'GNU.sparse.name', 'GNU.sparse.size', 'GNU.sparse.realsize', 'GNU.sparse.major', 'GNU.sparse.numblocks']);

/** pax extended header records: "<len> <key>=<value>\n" (POSIX pax). */
function parsePax(text: Buffer): Record<string, string> {
  const out: Record<string, string> = {};
  let at = 0;
  while (at < text.length) {
    const sp = text.indexOf(0x20, at);
    if (sp < 0) break;
    const len = parseInt(text.subarray(at, sp).toString('latin1'), 10);
    if (!(len > 0)) break;
    const record = decode(text.subarray(sp + 1, at + len - 1));
    const eq = record.indexOf('=');
    if (eq > 0 && PAX_KEYS.has(record.slice(0, eq))) out[record.slice(0, eq)] = record.slice(eq + 1);
    at += len;
  }
  return out;
}
