/**
 * Tar header encoding and decoding, ported line for line from tar-stream 3.2 (`headers.js`,
 * `pack.js`, `extract.js`), which wrote and read our archives before. Ported, not imported:
 * tar-stream does not export these, and its stream classes cost more than the work itself on
 * a 256 MiB volume (docs/bench-backup.md). Keeping its exact encoding keeps the archive
 * byte-identical to what earlier versions wrote, quirks included (e.g. uid > 0o777777 is
 * written as 777777, and an unreadable name goes into a PAX header named `PaxHeader`).
 */

export type TarType =
  | 'file' | 'link' | 'symlink' | 'character-device' | 'block-device' | 'directory' | 'fifo' | 'contiguous-file'
  | 'pax-header' | 'pax-global-header' | 'gnu-long-link-path' | 'gnu-long-path';

export interface TarHeader {
  name: string;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  mtime: Date;
  type: TarType | null;
  linkname: string | null;
  uname: string;
  gname: string;
  devmajor: number;
  devminor: number;
  pax: Record<string, string> | null;
}

const ZEROS = '0000000000000000000';
const SEVENS = '7777777777777777777';
const ZERO_OFFSET = 48;
const USTAR_MAGIC = Buffer.from([0x75, 0x73, 0x74, 0x61, 0x72, 0x00]); // ustar\0
const USTAR_VER = Buffer.from([ZERO_OFFSET, ZERO_OFFSET]);
const GNU_MAGIC = Buffer.from([0x75, 0x73, 0x74, 0x61, 0x72, 0x20]); // ustar\x20
const GNU_VER = Buffer.from([0x20, 0x00]);
const MASK = 0o7777;
const MAGIC_OFFSET = 257;
const VERSION_OFFSET = 263;

export const S_IFMT = 0o170000;
const TYPE_OF_MODE: Record<number, TarType> = { 0o060000: 'block-device', 0o020000: 'character-device', 0o040000: 'directory', 0o010000: 'fifo', 0o120000: 'symlink' };

/** tar-stream's `pack.entry` defaults, applied to a header before it is encoded. */
export function normalize(h: Partial<TarHeader> & { name: string }): TarHeader & { type: TarType } {
  const type = (h.type || TYPE_OF_MODE[(h.mode ?? 0) & S_IFMT] || 'file') as TarType;
  return {
    name: h.name,
    type,
    size: !h.size || type === 'symlink' ? 0 : h.size,
    mode: h.mode || (type === 'directory' ? 0o755 : 0o644),
    uid: h.uid || 0,
    gid: h.gid || 0,
    mtime: h.mtime || new Date(),
    linkname: h.linkname ?? null,
    uname: h.uname ?? '',
    gname: h.gname ?? '',
    devmajor: h.devmajor ?? 0,
    devminor: h.devminor ?? 0,
    pax: null,
  };
}

/** The header block(s) of an entry: one ustar block, or PAX header + body + ustar block. */
export function encodeEntryHeader(header: TarHeader): Buffer[] {
  const buf = encode(header);
  if (buf) return [buf];
  // tar-stream's _encodePax
  const paxBody = encodePax(header.name, header.linkname);
  const paxHeader: TarHeader = {
    ...header,
    name: 'PaxHeader',
    size: paxBody.byteLength,
    type: 'pax-header',
    linkname: header.linkname ? 'PaxHeader' : header.linkname,
    pax: null,
  };
  const out = [encode(paxHeader)!, paxBody];
  const pad = padding(paxBody.byteLength);
  if (pad) out.push(pad);
  out.push(encode({ ...paxHeader, size: header.size, type: header.type })!);
  return out;
}

export const ZERO_BLOCKS = Buffer.alloc(1024);

/** Zeros that fill a `size`-byte body up to the next 512-byte block, or undefined. */
export function padding(size: number): Buffer | undefined {
  const rest = size & 511;
  return rest ? ZERO_BLOCKS.subarray(0, 512 - rest) : undefined;
}

function encode(opts: TarHeader): Buffer | null {
  const buf = Buffer.alloc(512);
  let name = opts.name;
  let prefix = '';
  if (Buffer.byteLength(name) !== name.length) return null; // utf-8
  while (Buffer.byteLength(name) > 100) {
    const i = name.indexOf('/');
    if (i === -1) return null;
    prefix += prefix ? '/' + name.slice(0, i) : name.slice(0, i);
    name = name.slice(i + 1);
  }
  if (Buffer.byteLength(name) > 100 || Buffer.byteLength(prefix) > 155) return null;
  if (opts.linkname && Buffer.byteLength(opts.linkname) > 100) return null;

  buf.write(name);
  buf.write(encodeOct(opts.mode & MASK, 6), 100);
  buf.write(encodeOct(opts.uid, 6), 108);
  buf.write(encodeOct(opts.gid, 6), 116);
  encodeSize(opts.size, buf, 124);
  buf.write(encodeOct((opts.mtime.getTime() / 1000) | 0, 11), 136);
  buf[156] = ZERO_OFFSET + toTypeflag(opts.type);
  if (opts.linkname) buf.write(opts.linkname, 157);
  USTAR_MAGIC.copy(buf, MAGIC_OFFSET);
  USTAR_VER.copy(buf, VERSION_OFFSET);
  if (opts.uname) buf.write(opts.uname, 265);
  if (opts.gname) buf.write(opts.gname, 297);
  buf.write(encodeOct(opts.devmajor || 0, 6), 329);
  buf.write(encodeOct(opts.devminor || 0, 6), 337);
  if (prefix) buf.write(prefix, 345);
  buf.write(encodeOct(cksum(buf), 6), 148);
  return buf;
}

function encodePax(name: string, linkname: string | null): Buffer {
  let result = '';
  if (name) result += addLength(' path=' + name + '\n');
  if (linkname) result += addLength(' linkpath=' + linkname + '\n');
  return Buffer.from(result);
}

function addLength(str: string): string {
  const len = Buffer.byteLength(str);
  let digits = Math.floor(Math.log(len) / Math.log(10)) + 1;
  if (len + digits >= Math.pow(10, digits)) digits++;
  return len + digits + str;
}

/** Decodes one 512-byte block; null for an all-zero block (end of archive). */
export function decodeHeader(buf: Buffer): TarHeader | null {
  const typeflag = buf[156] === 0 ? 0 : buf[156] - ZERO_OFFSET;
  let name = decodeStr(buf, 0, 100);
  const mode = decodeOct(buf, 100, 8);
  const uid = decodeOct(buf, 108, 8);
  const gid = decodeOct(buf, 116, 8);
  const size = decodeOct(buf, 124, 12);
  const mtime = decodeOct(buf, 136, 12);
  const type = toType(typeflag);
  const linkname = buf[157] === 0 ? null : decodeStr(buf, 157, 100);
  const uname = decodeStr(buf, 265, 32);
  const gname = decodeStr(buf, 297, 32);
  const devmajor = decodeOct(buf, 329, 8);
  const devminor = decodeOct(buf, 337, 8);
  const c = cksum(buf);
  if (c === 8 * 32) return null;
  if (c !== decodeOct(buf, 148, 8)) throw new Error('Invalid tar header. Maybe the tar is corrupted or it needs to be gunzipped?');
  if (buf.subarray(MAGIC_OFFSET, MAGIC_OFFSET + 6).equals(USTAR_MAGIC)) {
    if (buf[345]) name = decodeStr(buf, 345, 155) + '/' + name;
  } else if (!(buf.subarray(MAGIC_OFFSET, MAGIC_OFFSET + 6).equals(GNU_MAGIC) && buf.subarray(VERSION_OFFSET, VERSION_OFFSET + 2).equals(GNU_VER))) {
    throw new Error('Invalid tar header: unknown format.');
  }
  return { name, mode, uid, gid, size, mtime: new Date(1000 * mtime), type, linkname, uname, gname, devmajor, devminor, pax: null };
}

export function decodePax(buf: Buffer): Record<string, string> {
  const result: Record<string, string> = {};
  while (buf.length) {
    let i = 0;
    while (i < buf.length && buf[i] !== 32) i++;
    const len = parseInt(buf.subarray(0, i).toString(), 10);
    if (!len) return result;
    const b = buf.subarray(i + 1, len - 1).toString();
    const keyIndex = b.indexOf('=');
    if (keyIndex === -1) return result;
    result[b.slice(0, keyIndex)] = b.slice(keyIndex + 1);
    buf = buf.subarray(len);
  }
  return result;
}

export function decodeLongPath(buf: Buffer): string {
  return decodeStr(buf, 0, buf.length);
}

function toType(flag: number): TarType | null {
  switch (flag) {
    case 0: return 'file';
    case 1: return 'link';
    case 2: return 'symlink';
    case 3: return 'character-device';
    case 4: return 'block-device';
    case 5: return 'directory';
    case 6: return 'fifo';
    case 7: return 'contiguous-file';
    case 72: return 'pax-header';
    case 55: return 'pax-global-header';
    case 27: return 'gnu-long-link-path';
    case 28:
    case 30: return 'gnu-long-path';
  }
  return null;
}

function toTypeflag(type: TarType | null): number {
  switch (type) {
    case 'file': return 0;
    case 'link': return 1;
    case 'symlink': return 2;
    case 'character-device': return 3;
    case 'block-device': return 4;
    case 'directory': return 5;
    case 'fifo': return 6;
    case 'contiguous-file': return 7;
    case 'pax-header': return 72;
  }
  return 0;
}

function cksum(block: Buffer): number {
  let sum = 8 * 32;
  for (let i = 0; i < 148; i++) sum += block[i];
  for (let j = 156; j < 512; j++) sum += block[j];
  return sum;
}

function encodeOct(val: number, n: number): string {
  const s = val.toString(8);
  if (s.length > n) return SEVENS.slice(0, n) + ' ';
  return ZEROS.slice(0, n - s.length) + s + ' ';
}

function encodeSize(num: number, buf: Buffer, off: number): void {
  if (num.toString(8).length > 11) {
    buf[off] = 0x80;
    for (let i = 11; i > 0; i--) {
      buf[off + i] = num & 0xff;
      num = Math.floor(num / 0x100);
    }
  } else {
    buf.write(encodeOct(num, 11), off);
  }
}

function parse256(buf: Buffer): number | null {
  let positive: boolean;
  if (buf[0] === 0x80) positive = true;
  else if (buf[0] === 0xff) positive = false;
  else return null;
  let sum = 0;
  for (let i = buf.length - 1, k = 0; i > 0; i--, k++) sum += (positive ? buf[i] : 0xff - buf[i]) * Math.pow(256, k);
  return positive ? sum : -1 * sum;
}

function decodeOct(block: Buffer, offset: number, length: number): number {
  const val = block.subarray(offset, offset + length);
  if (val[0] & 0x80) return parse256(val) as number;
  let at = 0;
  while (at < val.length && val[at] === 32) at++;
  let end = at;
  while (end < val.length && val[end] !== 32) end++;
  while (at < end && val[at] === 0) at++;
  if (end === at) return 0;
  return parseInt(val.subarray(at, end).toString(), 8);
}

function decodeStr(val: Buffer, offset: number, length: number): string {
  let end = offset;
  while (end < offset + length && val[end] !== 0) end++;
  return val.subarray(offset, end).toString('utf8');
}
