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

/** The body of a packet as it arrives, partial-length chunks joined. */
export async function* packetBody(r: ByteReader, h: PacketHeader): AsyncGenerator<Buffer> {
  if (h.indeterminate) return yield* r.rest();
  let len = h.len;
  let partial = h.partial;
  for (;;) {
    yield* r.take(len);
    if (!partial) return;
    ({ len, partial } = await readNewLength(r));
  }
}

/**
 * Joins small pieces into blocks of at least `min` bytes: gpg and OpenPGP.js write bodies
 * in partial chunks of a few KiB, and bulk ciphers and hashes are much faster on big blocks.
 */
export async function* coalesce(source: AsyncIterable<Buffer>, min = 64 * 1024): AsyncGenerator<Buffer> {
  let parts: Buffer[] = [];
  let total = 0;
  for await (const piece of source) {
    // Pass big pieces through when word-aligned (the CFB XOR runs a word at a time on those).
    if (total === 0 && piece.length >= min && (piece.byteOffset & 7) === 0) {
      yield piece;
      continue;
    }
    parts.push(piece);
    total += piece.length;
    if (total >= min) {
      yield Buffer.concat(parts, total);
      parts = [];
      total = 0;
    }
  }
  if (total) yield Buffer.concat(parts, total);
}
