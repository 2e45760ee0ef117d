/** OpenPGP packet framing (RFC 4880 §4.2): headers, lengths, and streamed packet bodies. */
import { ByteReader } from './byteReader';
import { CorruptArchiveError } from './errors';

export const enum Tag {
  PKESK = 1,
  Signature = 2,
  SKESK = 3,
  OnePassSignature = 4,
  Compressed = 8,
  SED = 9,
  Marker = 10,
  Literal = 11,
  SEIPD = 18,
  AEAD = 20,
}

export interface PacketHeader {
  tag: number;
  /** Body length, or the first chunk's length when `partial`. */
  len: number;
  partial: boolean;
  /** Old-format length type 3: the body runs to the end of the enclosing data (gpg uses it for compressed packets). */
  indeterminate: boolean;
}

export async function readPacketHeader(r: ByteReader): Promise<PacketHeader> {
  const b = await r.readByte();
  if ((b & 0x80) === 0) throw new CorruptArchiveError('The OpenPGP data is damaged (a packet header is invalid).');
  if (b & 0x40) return { tag: b & 0x3f, ...(await readNewLength(r)) };
  const tag = (b >> 2) & 0x0f;
  switch (b & 3) {
    case 0:
      return { tag, len: await r.readByte(), partial: false, indeterminate: false };
    case 1:
      return { tag, len: (await r.readExact(2)).readUInt16BE(0), partial: false, indeterminate: false };
    case 2:
      return { tag, len: (await r.readExact(4)).readUInt32BE(0), partial: false, indeterminate: false };
    default:
      return { tag, len: 0, partial: false, indeterminate: true };
  }
}

async function readNewLength(r: ByteReader): Promise<{ len: number; partial: boolean; indeterminate: false }> {
  const o1 = await r.readByte();
  if (o1 < 192) return { len: o1, partial: false, indeterminate: false };
  if (o1 < 224) return { len: ((o1 - 192) << 8) + (await r.readByte()) + 192, partial: false, indeterminate: false };
  if (o1 === 255) return { len: (await r.readExact(4)).readUInt32BE(0), partial: false, indeterminate: false };
  return { len: 1 << (o1 & 0x1f), partial: true, indeterminate: false };
}

/**
 * How packetBody hands out a partial-length body: `copy` joins each input chunk's pieces into
 * a new buffer (fewer, bigger cipher calls); `reuse` joins them into one buffer overwritten on
 * the next pull, for a consumer that is done with a piece before it asks for the next (the
 * CFB decryptor: one less 256 KiB allocation per read); `pieces` yields them as they are.
 */
export type BodyJoin = 'copy' | 'reuse' | 'pieces';

/**
 * The body of a packet as it arrives, partial-length chunks joined. gpg writes bodies as
 * 8 KiB partial chunks: headers are stripped synchronously per input chunk, so one input
 * chunk gives one output piece instead of a dozen trips through the async generators.
 */
export async function* packetBody(r: ByteReader, h: PacketHeader, join: BodyJoin = 'copy'): AsyncGenerator<Buffer> {
  if (h.indeterminate) return yield* r.rest();
  if (!h.partial) return yield* r.take(h.len);
  const d = new PartialBody(h.len);
  let scratch = Buffer.alloc(0);
  for await (const chunk of r.rest()) {
    const pieces = d.push(chunk);
    if (join === 'pieces' || pieces.length < 2) yield* pieces;
    else if (join === 'copy') yield Buffer.concat(pieces);
    else {
      const total = pieces.reduce((n, p) => n + p.length, 0);
      if (scratch.length < total) scratch = Buffer.allocUnsafeSlow(total);
      let at = 0;
      for (const p of pieces) at += p.copy(scratch, at);
      yield scratch.subarray(0, total);
    }
    if (d.done) {
      if (d.leftover.length) r.unread(d.leftover);
      return;
    }
  }
  throw new CorruptArchiveError('The OpenPGP data ends early (the file is truncated).');
}

/** RFC 4880 §4.2.2.4 partial body lengths, decoded push-style. */
class PartialBody {
  done = false;
  leftover: Buffer = Buffer.alloc(0);
  private left: number;
  private partial = true;
  private header: number[] = [];

  constructor(firstLen: number) {
    this.left = firstLen;
  }

  push(chunk: Buffer): Buffer[] {
    const out: Buffer[] = [];
    let at = 0;
    while (at < chunk.length) {
      if (this.left > 0) {
        const n = Math.min(this.left, chunk.length - at);
        out.push(chunk.subarray(at, at + n));
        at += n;
        this.left -= n;
        continue;
      }
      if (!this.partial) break;
      // Between chunks: the next length header, possibly split across input chunks.
      this.header.push(chunk[at++]);
      const o1 = this.header[0];
      const need = o1 < 192 ? 1 : o1 < 224 ? 2 : o1 === 255 ? 5 : 1;
      if (this.header.length < need) continue;
      const hb = this.header;
      this.header = [];
      if (o1 < 192) [this.left, this.partial] = [o1, false];
      else if (o1 < 224) [this.left, this.partial] = [((o1 - 192) << 8) + hb[1] + 192, false];
      else if (o1 === 255) [this.left, this.partial] = [((hb[1] << 24) | (hb[2] << 16) | (hb[3] << 8) | hb[4]) >>> 0, false];
      else this.left = 1 << (o1 & 0x1f);
    }
    if (this.left === 0 && !this.partial) {
      this.done = true;
      this.leftover = chunk.subarray(at);
    }
    return out;
  }
}
