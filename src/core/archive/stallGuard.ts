/**
 * OpenPGP.js can stop for good on garbage plaintext (a wrong passphrase with a cipher only it
 * runs, e.g. CAST5): one of its stream branches waits for another that nobody reads any more,
 * and nothing is left pending in the event loop — in VS Code, a verify that never ends.
 * Once every input byte has been handed over, OpenPGP.js must keep producing or finish: a
 * pause longer than `ms` after that is this deadlock, and becomes an error.
 */
const OPENPGPJS_PIECE = 32 * 1024;

export class StallWatch {
  private inputEndedAt: number | undefined;
  private lastProgress = Date.now();

  constructor(private readonly ms: number, private readonly onStall: () => Error) {}

  /**
   * The input, copied (the consumer queues chunks, and readAhead reuses its buffers), in
   * 32 KiB pieces: OpenPGP.js's streams keep several chunks and their decrypted copies in
   * flight, and with 256 KiB chunks a Twofish or CAST5 archive of any size peaked at
   * 136-144 MiB (110-113 MiB with 32 KiB; ~1.5x slower on these legacy ciphers only).
   */
  async *track(source: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
    for await (const c of source) for (let i = 0; i < c.length; i += OPENPGPJS_PIECE) yield Buffer.from(c.subarray(i, i + OPENPGPJS_PIECE));
    this.inputEndedAt = Date.now();
  }

  /** `p`, or the stall error when the input has ended and nothing came for `ms`. */
  async race<T>(p: Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const stalled = new Promise<never>((_, reject) => {
      const check = () => {
        const since = this.inputEndedAt === undefined ? undefined : Math.max(this.lastProgress, this.inputEndedAt);
        if (since !== undefined && Date.now() - since >= this.ms) reject(this.onStall());
        else timer = setTimeout(check, Math.min(250, this.ms));
      };
      timer = setTimeout(check, Math.min(250, this.ms));
    });
    try {
      const value = await Promise.race([p, stalled]);
      this.lastProgress = Date.now();
      return value;
    } finally {
      clearTimeout(timer);
    }
  }

  /** `source`'s items, each raced against the stall. */
  async *guard<T>(source: AsyncIterable<T>): AsyncGenerator<T> {
    const it = source[Symbol.asyncIterator]();
    try {
      for (;;) {
        const r = await this.race(it.next());
        if (r.done) return;
        yield r.value;
      }
    } finally {
      void it.return?.()?.catch?.(() => undefined);
    }
  }
}
