/**
 * Pull-style reading of an async byte stream: exact small reads for headers, and chunked
 * pass-through for bodies so large data is never gathered in memory.
 */
import { CorruptArchiveError } from './errors';

const EMPTY = Buffer.alloc(0);

export class ByteReader {
  private buf: Buffer = EMPTY;
  private done = false;
  private readonly it: AsyncIterator<Buffer>;

  constructor(source: AsyncIterable<Buffer>, private readonly what = 'OpenPGP data') {
    this.it = source[Symbol.asyncIterator]();
  }

  private async fill(): Promise<boolean> {
    if (this.done) return false;
    const r = await this.it.next();
    if (r.done) {
      this.done = true;
      return false;
    }
    const chunk = Buffer.isBuffer(r.value) ? r.value : Buffer.from(r.value);
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
    return true;
  }

  /** True at the end of the stream (nothing buffered, nothing left to read). */
  async atEnd(): Promise<boolean> {
    while (this.buf.length === 0) if (!(await this.fill())) return true;
    return false;
  }

  async readExact(n: number): Promise<Buffer> {
    while (this.buf.length < n) {
      if (!(await this.fill())) throw new CorruptArchiveError(`The ${this.what} ends early (the file is truncated).`);
    }
    const out = this.buf.subarray(0, n);
    this.buf = this.buf.subarray(n);
    return out;
  }

  async readByte(): Promise<number> {
    return (await this.readExact(1))[0];
  }

  /** Exactly n bytes, as they arrive. */
  async *take(n: number): AsyncGenerator<Buffer> {
    let left = n;
    while (left > 0) {
      if (this.buf.length === 0 && !(await this.fill())) {
        throw new CorruptArchiveError(`The ${this.what} ends early (the file is truncated).`);
      }
      const piece = this.buf.length <= left ? this.buf : this.buf.subarray(0, left);
      this.buf = this.buf.length <= left ? EMPTY : this.buf.subarray(left);
      left -= piece.length;
      yield piece;
    }
  }

  /** Puts back bytes taken with rest() but not used (only while nothing else is buffered). */
  unread(b: Buffer): void {
    this.buf = this.buf.length ? Buffer.concat([b, this.buf]) : b;
  }

  /** Everything up to the end of the stream. */
  async *rest(): AsyncGenerator<Buffer> {
    for (;;) {
      if (this.buf.length) {
        const piece = this.buf;
        this.buf = EMPTY;
        yield piece;
      }
      if (!(await this.fill())) return;
    }
  }
}
