/**
 * The bytes verify reads, read once: a regular file (read ahead), anything else that can
 * only be read front to back (a named pipe, stdin, a device, a file on a manager streamed
 * through SSH), with the file's SHA-256, byte count, progress and cancellation on the way.
 * Nothing is read twice, so a pipe works and a remote file crosses the network once.
 */
import { createHash, type Hash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { CancelledError, UcpError } from '../errors';
import type { ProgressSink } from '../progress';
import { readAhead } from '../archive/readAhead';

export type VerifySource =
  | { kind: 'file'; path: string }
  | { kind: 'stream'; open: () => Promise<Readable | AsyncIterable<Buffer>>; size?: number; label: string };

/** An error reading the source itself (file or SSH stream): not the archive's fault. */
export class SourceReadError extends UcpError {
  constructor(label: string, err: unknown) {
    super(`Cannot read ${label}: ${(err as Error)?.message ?? err}`, 'Check that the file exists and is readable (or that the node is reachable).', 2, { cause: err });
  }
}

const READ_CHUNK = 256 * 1024;

export interface OpenedInput {
  chunks: AsyncIterable<Buffer>;
  /** Size when known up front (a regular file, or a stream that announces it). */
  total?: number;
  close(): void;
}

export async function openInput(source: VerifySource, label: string): Promise<OpenedInput> {
  if (source.kind === 'file') {
    let regular: boolean;
    let size: number;
    try {
      const s = await stat(source.path);
      [regular, size] = [s.isFile(), s.size];
    } catch (err) {
      throw new SourceReadError(source.path, err);
    }
    if (regular) {
      const it = readAhead(source.path, READ_CHUNK);
      return { chunks: it, total: size, close: () => void it.return(undefined).catch(() => undefined) };
    }
    // A pipe or device has no positions to read ahead at (ESPIPE): read it front to back.
    const s = createReadStream(source.path, { highWaterMark: READ_CHUNK });
    return { chunks: s, close: () => s.destroy() };
  }
  let input: Readable | AsyncIterable<Buffer>;
  try {
    input = await source.open();
  } catch (err) {
    if (err instanceof UcpError) throw err;
    throw new SourceReadError(label, err);
  }
  // A streamed source may learn its size only once open (Docker's archive header).
  return {
    chunks: input,
    total: source.size,
    close: () => {
      if (input instanceof Readable) input.destroy();
      else void (input as AsyncGenerator<Buffer>).return?.(undefined)?.catch(() => undefined);
    },
  };
}

export interface TapOptions {
  signal?: AbortSignal;
  onProgress?: ProgressSink;
  fileSha256?: boolean;
}

/** Reads the source once: SHA-256 and byte count of the file as read, progress, cancellation. */
export class HashingTap {
  bytes = 0;
  private readonly hash?: Hash;
  private readonly it: AsyncIterator<Buffer>;
  private lastReport = 0;

  constructor(
    input: AsyncIterable<Buffer>,
    private readonly label: string,
    readonly total: number | undefined,
    private readonly options: TapOptions,
  ) {
    this.it = input[Symbol.asyncIterator]();
    if (options.fileSha256) this.hash = createHash('sha256');
  }

  async next(): Promise<Buffer | undefined> {
    if (this.options.signal?.aborted) throw new CancelledError();
    let r: IteratorResult<Buffer>;
    try {
      r = await this.it.next();
    } catch (err) {
      if (err instanceof UcpError) throw err;
      throw new SourceReadError(this.label, err);
    }
    if (r.done) return undefined;
    const chunk = Buffer.isBuffer(r.value) ? r.value : Buffer.from(r.value);
    this.hash?.update(chunk);
    this.bytes += chunk.length;
    if (this.options.onProgress && this.bytes - this.lastReport >= 32 * 1024 * 1024) {
      this.lastReport = this.bytes;
      this.options.onProgress({
        step: 'verify',
        message: `Verifying ${this.label}`,
        bytes: this.bytes,
        percent: this.total ? Math.min(100, Math.floor((this.bytes / this.total) * 100)) : undefined,
      });
    }
    return chunk;
  }

  /** Reads what the consumers left (data after the OpenPGP message, or after a damaged part). */
  async drain(): Promise<void> {
    while ((await this.next()) !== undefined);
  }

  sha256(): string | undefined {
    return this.hash?.digest('hex');
  }
}

/**
 * Keeps (copies of) the first chunks until the first plaintext shows which decryptor reads
 * this archive, so a second try with OpenPGP.js starts again from byte 0 without reading the
 * source again. The fast path hands over within its first few chunks (it raises NeedsOpenPgpJs
 * before any plaintext); REPLAY_LIMIT bounds what an archive can make us keep.
 */
const REPLAY_LIMIT = 4 * 1024 * 1024;

export class Replay {
  private kept: Buffer[] = [];
  private keptBytes = 0;
  private recording = true;
  private overflow = false;

  constructor(private readonly tap: HashingTap) {}

  /** The input from its first byte: the kept chunks, then the rest of the source. */
  async *stream(): AsyncGenerator<Buffer> {
    const replayed = this.kept;
    this.kept = [];
    this.keptBytes = 0;
    for (const c of replayed) yield this.keep(c, false);
    for (;;) {
      const c = await this.tap.next();
      if (c === undefined) return;
      yield this.keep(c);
    }
  }

  /** The first try read plaintext: it is the one that reads this archive, nothing is replayed. */
  settle(): void {
    this.recording = false;
    this.kept = [];
  }

  get canReplay(): boolean {
    return !this.overflow;
  }

  private keep(c: Buffer, fresh = true): Buffer {
    if (!this.recording) return c;
    if (this.keptBytes + c.length > REPLAY_LIMIT) {
      [this.overflow, this.recording, this.kept] = [true, false, []];
      return c;
    }
    // Copied: readAhead reuses its buffers (readAhead.ts).
    const copy = fresh ? Buffer.from(c) : c;
    this.kept.push(copy);
    this.keptBytes += copy.length;
    return copy;
  }
}

/** The first `n` bytes (fewer at the end of input) and the whole stream, those bytes included. */
export async function peek(source: AsyncGenerator<Buffer>, n: number): Promise<{ head: Buffer; stream: AsyncGenerator<Buffer> }> {
  const first: Buffer[] = [];
  let got = 0;
  while (got < n) {
    const r = await source.next();
    if (r.done) break;
    first.push(r.value);
    got += r.value.length;
  }
  async function* stream(): AsyncGenerator<Buffer> {
    yield* first;
    for (;;) {
      const r = await source.next();
      if (r.done) return;
      yield r.value;
    }
  }
  return { head: Buffer.concat(first).subarray(0, n), stream: stream() };
}
