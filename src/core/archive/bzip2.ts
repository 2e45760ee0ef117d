/**
 * Streaming bzip2 decompression for OpenPGP compressed packets (RFC 4880 §9.3, algorithm 3).
 * Node has no bzip2, and OpenPGP.js's decoder gathers each block's whole output (up to ~46 MB
 * for a block of zeros, grown by doubling: ~300 MiB peak RSS for a 1 GiB bomb). Here one
 * block's symbols (at most 900,000, 3.6 MB) and its compressed bits (at most ~2.3 MB) are held,
 * and the output leaves in 256 KiB pieces as the inverse BWT walks, so memory is flat
 * whatever the ratio. Block and stream CRCs are checked, as libbz2 (and so gpg) does.
 *
 * The decoding follows the format as micro-bunzip / bzip2.js read it (Huffman groups of 50
 * symbols, MTF, RUNA/RUNB, inverse BWT, the initial run-length stage); conformance is
 * checked against real `bzip2` and gpg output (test/unit/verifyBzip2.test.ts).
 */
import { CorruptArchiveError, UnsupportedArchiveError } from './errors';

const OUT_PIECE = 256 * 1024;
/** Output pieces are reused: a consumer keeps one only until it has pulled a few more (readAhead.ts's contract). */
const RING = 6;
/** A block cannot need more input than this (900,000 symbols of at most 20 bits, tables, selectors). */
const MAX_BLOCK_INPUT = 4 * 1024 * 1024;
const MAX_CODE_BITS = 20;
const MAX_SYMBOLS = 258;
const GROUP_SIZE = 50;

const CRC_TABLE = (() => {
  const t = new Int32Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i << 24;
    for (let k = 0; k < 8; k++) c = c & 0x80000000 ? (c << 1) ^ 0x04c11db7 : c << 1;
    t[i] = c;
  }
  return t;
})();

/** Thrown inside a block when the buffered input runs out: fetch more and decode the block again. */
const NEED_INPUT = Symbol('need input');
/** A "randomised" block: only bzip2 0.9.0 (1998) wrote them; libbz2 still reads them. */
const RANDOMISED = Symbol('randomised');

function damaged(what: string): CorruptArchiveError {
  return new CorruptArchiveError(`The decrypted data is damaged (bzip2: ${what}).`);
}

class BitReader {
  buf: Buffer = Buffer.alloc(0);
  pos = 0;
  private acc = 0;
  private n = 0;

  bits(k: number): number {
    while (this.n < k) {
      if (this.pos >= this.buf.length) throw NEED_INPUT;
      this.acc = (this.acc << 8) | this.buf[this.pos++];
      this.n += 8;
    }
    this.n -= k;
    return (this.acc >>> this.n) & ((1 << k) - 1);
  }

  mark(): [number, number, number] {
    return [this.pos, this.acc, this.n];
  }

  reset(m: [number, number, number]): void {
    [this.pos, this.acc, this.n] = m;
  }

  /** Drops the consumed bytes and appends `more`. */
  append(more: Buffer[]): void {
    this.buf = Buffer.concat([this.buf.subarray(this.pos), ...more]);
    this.pos = 0;
  }

  get buffered(): number {
    return this.buf.length - this.pos;
  }
}

interface Group {
  permute: Int32Array;
  limit: Int32Array;
  base: Int32Array;
  minLen: number;
  maxLen: number;
}

/** One block, decoded up to its BWT symbols; the output is produced by Block.emit. */
class Block {
  count = 0;
  private pos = 0;
  private current = 0;
  private run = -1;
  private copies = 0;
  private outbyte = 0;
  private crc = -1;

  constructor(
    private readonly tt: Int32Array,
    readonly expectedCrc: number,
    origPtr: number,
    count: number,
  ) {
    this.count = count;
    if (count === 0) return;
    const p = tt[origPtr];
    this.current = p & 0xff;
    this.pos = p >> 8;
  }

  /** Writes output into `out` from `at`; returns the new end. Done when count and copies are 0. */
  emit(out: Buffer, at: number): number {
    const tt = this.tt;
    let { pos, current, run, copies, outbyte, crc, count } = this;
    while (at < out.length) {
      if (copies > 0) {
        const k = Math.min(copies, out.length - at);
        for (let i = 0; i < k; i++) crc = (crc << 8) ^ CRC_TABLE[((crc >>> 24) ^ outbyte) & 0xff];
        if (k === 1) out[at] = outbyte;
        else out.fill(outbyte, at, at + k);
        at += k;
        copies -= k;
        continue;
      }
      if (count === 0) break;
      count--;
      const previous = current;
      pos = tt[pos];
      current = pos & 0xff;
      pos >>= 8;
      if (run++ === 3) {
        copies = current;
        outbyte = previous;
        current = -1;
      } else {
        copies = 1;
        outbyte = current;
      }
      if (current !== previous) run = 0;
    }
    Object.assign(this, { pos, current, run, copies, outbyte, crc, count });
    return at;
  }

  get done(): boolean {
    return this.count === 0 && this.copies === 0;
  }

  get actualCrc(): number {
    return ~this.crc >>> 0;
  }
}

/** Reusable tables of the decoder (one set per stream). */
class Tables {
  readonly symToByte = new Uint8Array(256);
  readonly mtf = new Uint8Array(256);
  readonly byteCount = new Int32Array(256);
  readonly selectors = new Uint8Array(32768);
  readonly length = new Uint8Array(MAX_SYMBOLS);
  readonly temp = new Int32Array(MAX_CODE_BITS + 2);
  readonly groups: Group[] = Array.from({ length: 6 }, () => ({
    permute: new Int32Array(MAX_SYMBOLS),
    limit: new Int32Array(MAX_CODE_BITS + 2),
    base: new Int32Array(MAX_CODE_BITS + 2),
    minLen: 0,
    maxLen: 0,
  }));
}

/** Reads one block (after its magic) into tt; throws NEED_INPUT when the input runs out. */
function readBlock(r: BitReader, t: Tables, tt: Int32Array, blockMax: number): Block {
  const expectedCrc = ((r.bits(16) << 16) | r.bits(16)) >>> 0;
  if (r.bits(1)) throw RANDOMISED;
  const origPtr = r.bits(24);
  const used = r.bits(16);
  let symTotal = 0;
  for (let i = 0; i < 16; i++) {
    if (!(used & (1 << (15 - i)))) continue;
    const k = r.bits(16);
    for (let j = 0; j < 16; j++) if (k & (1 << (15 - j))) t.symToByte[symTotal++] = 16 * i + j;
  }
  if (symTotal === 0) throw damaged('a block uses no symbols');
  const groupCount = r.bits(3);
  if (groupCount < 2 || groupCount > 6) throw damaged('bad number of Huffman tables');
  const nSelectors = r.bits(15);
  if (nSelectors === 0) throw damaged('no selectors');
  for (let i = 0; i < groupCount; i++) t.mtf[i] = i;
  for (let i = 0; i < nSelectors; i++) {
    let j = 0;
    while (r.bits(1)) if (++j >= groupCount) throw damaged('bad selector');
    const v = t.mtf[j];
    for (; j > 0; j--) t.mtf[j] = t.mtf[j - 1];
    t.selectors[i] = t.mtf[0] = v;
  }
  const symCount = symTotal + 2;
  for (let g = 0; g < groupCount; g++) {
    let len = r.bits(5);
    for (let i = 0; i < symCount; i++) {
      for (;;) {
        if (len < 1 || len > MAX_CODE_BITS) throw damaged('bad code length');
        if (!r.bits(1)) break;
        len += r.bits(1) ? -1 : 1;
      }
      t.length[i] = len;
    }
    buildGroup(t.groups[g], t.length, symCount, t.temp);
  }

  for (let i = 0; i < 256; i++) {
    t.mtf[i] = i;
    t.byteCount[i] = 0;
  }
  let count = 0;
  let runPos = 0;
  let run = 0;
  let left = 0;
  let selector = 0;
  let group = t.groups[0];
  for (;;) {
    if (left-- === 0) {
      left = GROUP_SIZE - 1;
      if (selector >= nSelectors) throw damaged('ran out of selectors');
      group = t.groups[t.selectors[selector++]];
    }
    let i = group.minLen;
    let code = r.bits(i);
    while (code > group.limit[i]) {
      if (++i > group.maxLen) throw damaged('bad Huffman code');
      code = (code << 1) | r.bits(1);
    }
    const index = code - group.base[i];
    if (index < 0 || index >= MAX_SYMBOLS) throw damaged('bad Huffman code');
    const sym = group.permute[index];
    if (sym <= 1) {
      // RUNA / RUNB: a run length in bijective base 2.
      if (runPos === 0) [runPos, run] = [1, 0];
      run += sym === 0 ? runPos : 2 * runPos;
      runPos <<= 1;
      if (run > blockMax) throw damaged('a run longer than the block');
      continue;
    }
    if (runPos) {
      runPos = 0;
      if (count + run > blockMax) throw damaged('a block larger than its size');
      const b = t.symToByte[t.mtf[0]];
      t.byteCount[b] += run;
      tt.fill(b, count, count + run);
      count += run;
    }
    if (sym > symTotal) break; // end of block
    if (count >= blockMax) throw damaged('a block larger than its size');
    const j = sym - 1;
    const v = t.mtf[j];
    if (j > 8) t.mtf.copyWithin(1, 0, j); // a memmove: random data moves ~128 places a symbol
    else for (let k = j; k > 0; k--) t.mtf[k] = t.mtf[k - 1];
    t.mtf[0] = v;
    const b = t.symToByte[v];
    t.byteCount[b]++;
    tt[count++] = b;
  }
  if (origPtr >= count && count > 0) throw damaged('bad block origin');
  // Inverse BWT links: tt[i] holds its byte in the low 8 bits and the next position above.
  let sum = 0;
  for (let i = 0; i < 256; i++) {
    const k = sum + t.byteCount[i];
    t.byteCount[i] = sum;
    sum = k;
  }
  for (let i = 0; i < count; i++) {
    const b = tt[i] & 0xff;
    tt[t.byteCount[b]++] |= i << 8;
  }
  return new Block(tt, expectedCrc, origPtr, count);
}

function buildGroup(g: Group, length: Uint8Array, symCount: number, temp: Int32Array): void {
  let minLen = length[0];
  let maxLen = length[0];
  for (let i = 1; i < symCount; i++) {
    if (length[i] > maxLen) maxLen = length[i];
    if (length[i] < minLen) minLen = length[i];
  }
  g.minLen = minLen;
  g.maxLen = maxLen;
  let pp = 0;
  for (let i = minLen; i <= maxLen; i++) for (let s = 0; s < symCount; s++) if (length[s] === i) g.permute[pp++] = s;
  temp.fill(0);
  g.limit.fill(0);
  g.base.fill(0);
  for (let i = 0; i < symCount; i++) temp[length[i]]++;
  pp = 0;
  let total = 0;
  for (let i = minLen; i < maxLen; i++) {
    pp += temp[i];
    g.limit[i] = pp - 1;
    pp <<= 1;
    total += temp[i];
    g.base[i + 1] = pp - total;
  }
  g.limit[maxLen] = pp + temp[maxLen] - 1;
  g.base[minLen] = 0;
}

/** The decompressed bytes of one bzip2 stream; what follows the stream's end is read and ignored. */
export async function* bunzip2(source: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  const it = source[Symbol.asyncIterator]();
  let ended = false;
  const r = new BitReader();
  /** Reads until `min` bytes are buffered or the input ends. */
  const fill = async (min: number) => {
    const more: Buffer[] = [];
    let have = r.buffered;
    while (have < min && !ended) {
      const n = await it.next();
      if (n.done) ended = true;
      else {
        more.push(n.value);
        have += n.value.length;
      }
    }
    r.append(more);
  };
  /** Runs a synchronous read, fetching more input and starting over while it runs out. */
  const read = async <T>(step: () => T): Promise<T> => {
    for (;;) {
      const m = r.mark();
      try {
        return step();
      } catch (err) {
        if (err !== NEED_INPUT) throw err;
        r.reset(m);
        if (ended) throw new CorruptArchiveError('The decrypted data ends inside its bzip2 stream (the file is truncated or damaged).');
        if (r.buffered > MAX_BLOCK_INPUT) throw damaged('a block larger than bzip2 writes');
        await fill(r.buffered + 1024 * 1024);
      }
    }
  };

  await fill(4);
  const level = await read(() => {
    if (r.bits(8) !== 0x42 || r.bits(8) !== 0x5a || r.bits(8) !== 0x68) throw damaged('no bzip2 header');
    return r.bits(8) - 0x30;
  });
  if (level < 1 || level > 9) throw damaged('bad block size');
  const blockMax = level * 100_000;
  const tt = new Int32Array(blockMax);
  const tables = new Tables();
  const ring = Array.from({ length: RING }, () => Buffer.allocUnsafeSlow(OUT_PIECE));
  let pieces = 0;
  let out = ring[0];
  let at = 0;
  let streamCrc = 0;
  for (;;) {
    const magic = await read(() => [r.bits(24), r.bits(24)]);
    if (magic[0] === 0x177245 && magic[1] === 0x385090) {
      const crc = await read(() => ((r.bits(16) << 16) | r.bits(16)) >>> 0);
      if (crc !== streamCrc) throw damaged('the stream CRC does not match');
      break;
    }
    if (magic[0] !== 0x314159 || magic[1] !== 0x265359) throw damaged('bad block header');
    // Most blocks are then decoded in one go instead of again after each short read.
    if (r.buffered < 1024 * 1024 && !ended) await fill(1024 * 1024);
    let block: Block;
    try {
      block = await read(() => readBlock(r, tables, tt, blockMax));
    } catch (err) {
      if (err !== RANDOMISED) throw err;
      // Not damage if the data is what was written: the rest is read first, so a failed
      // integrity check after it (damage that looks like this bit) is the answer instead.
      while (!ended && !(await it.next()).done);
      throw new UnsupportedArchiveError('bzip2 "randomised" blocks (written by bzip2 0.9.0)');
    }
    while (!block.done) {
      at = block.emit(out, at);
      if (at === out.length) {
        yield out;
        out = ring[++pieces % RING];
        at = 0;
      }
    }
    if (block.actualCrc !== block.expectedCrc) throw damaged('a block CRC does not match');
    streamCrc = (block.actualCrc ^ ((streamCrc << 1) | (streamCrc >>> 31))) >>> 0;
  }
  if (at > 0) yield out.subarray(0, at);
  // The rest of the packet (gpg writes nothing after the stream) is read so the MDC after it is checked.
  for (;;) {
    if (ended) return;
    const n = await it.next();
    if (n.done) return;
  }
}
