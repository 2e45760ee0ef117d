/**
 * Where a passphrase-encrypted OpenPGP message ends: session key packets, then one encrypted
 * data packet (RFC 4880 §11.3). GnuPG 2.2 fails a file with anything after that packet — a
 * stray byte, a second message — as "encrypted message has been manipulated"; verify does too.
 *
 * The packet framing is followed as the bytes pass (headers and partial-length chunk headers
 * only, §4.2), so the decryptors downstream (ours and OpenPGP.js) see the message alone and
 * the bytes after it are counted, never gathered. Chunks are passed on as they are (no copy).
 */

const ENCRYPTED_TAGS = new Set([9, 18, 20]); // SED, SEIPD, AEAD

export class MessageEnd {
  /** Bytes seen after the end of the message. */
  trailingBytes = 0;
  private readonly it: AsyncIterator<Buffer>;
  /** The encrypted packet's last byte went by. */
  private ended = false;
  /** A header we cannot follow (damage, or a packet that runs to the end of input): pass it all on, the decryptor says what is wrong. */
  private unframed = false;
  private hdr: number[] = [];
  /** The next header is a partial-length chunk header, not a packet header. */
  private partial = false;
  private left = 0;
  private lastPacket = false;

  constructor(source: AsyncIterable<Buffer>) {
    this.it = source[Symbol.asyncIterator]();
  }

  /** The message's bytes, up to the end of its encrypted packet. */
  async *message(): AsyncGenerator<Buffer> {
    while (!this.ended) {
      const r = await this.it.next();
      if (r.done) return;
      const chunk = Buffer.isBuffer(r.value) ? r.value : Buffer.from(r.value);
      const end = this.scan(chunk);
      this.trailingBytes += chunk.length - end;
      if (end === chunk.length) yield chunk;
      else if (end > 0) yield chunk.subarray(0, end);
    }
  }

  /**
   * Reads the input to its end after message() finished, and returns the bytes after the
   * message. Damage in what follows (e.g. a second armored block cut short) does not change
   * the finding: the data after the message is the reason.
   */
  async trailing(): Promise<number> {
    try {
      for (;;) {
        const r = await this.it.next();
        if (r.done) break;
        if (this.ended) this.trailingBytes += r.value.length;
      }
    } catch (err) {
      if (this.trailingBytes === 0) throw err;
    }
    return this.ended ? this.trailingBytes : 0;
  }

  /** Follows the framing through `chunk`; returns where the message ends in it (its length if not in it). */
  private scan(chunk: Buffer): number {
    let at = 0;
    while (at < chunk.length) {
      if (this.ended) return at;
      if (this.unframed) return chunk.length;
      if (this.left > 0) {
        const n = Math.min(this.left, chunk.length - at);
        at += n;
        this.left -= n;
        if (this.left === 0) this.bodyPieceDone();
        continue;
      }
      this.hdr.push(chunk[at++]);
      this.headerByte();
    }
    return this.ended ? at : chunk.length;
  }

  private headerByte(): void {
    const h = this.hdr;
    if (this.partial) {
      if (h.length < lengthBytes(h[0])) return;
      this.hdr = [];
      this.startBody(h, 0);
      return;
    }
    const ctb = h[0];
    if ((ctb & 0x80) === 0) return void (this.unframed = true);
    if (ctb & 0x40) {
      if (h.length < 2 || h.length < 1 + lengthBytes(h[1])) return;
      this.hdr = [];
      this.lastPacket = ENCRYPTED_TAGS.has(ctb & 0x3f);
      this.startBody(h, 1);
      return;
    }
    // Old format (§4.2.1): length type 3 runs to the end of the input, so nothing can follow it.
    const type = ctb & 3;
    if (type === 3) return void (this.unframed = true);
    const n = [1, 2, 4][type];
    if (h.length < 1 + n) return;
    this.hdr = [];
    this.lastPacket = ENCRYPTED_TAGS.has((ctb >> 2) & 0x0f);
    this.partial = false;
    this.left = h.slice(1).reduce((len, b) => len * 256 + b, 0);
    if (this.left === 0) this.bodyPieceDone();
  }

  /** A new-format length at h[at] (§4.2.2): a whole body, or a partial chunk with more to come. */
  private startBody(h: number[], at: number): void {
    const o1 = h[at];
    if (o1 < 192) [this.left, this.partial] = [o1, false];
    else if (o1 < 224) [this.left, this.partial] = [((o1 - 192) << 8) + h[at + 1] + 192, false];
    else if (o1 === 255) [this.left, this.partial] = [((h[at + 1] << 24) | (h[at + 2] << 16) | (h[at + 3] << 8) | h[at + 4]) >>> 0, false];
    else [this.left, this.partial] = [1 << (o1 & 0x1f), true];
    if (this.left === 0) this.bodyPieceDone();
  }

  private bodyPieceDone(): void {
    if (!this.partial && this.lastPacket) this.ended = true;
  }
}

function lengthBytes(o1: number): number {
  return o1 < 192 ? 1 : o1 < 224 ? 2 : o1 === 255 ? 5 : 1;
}
