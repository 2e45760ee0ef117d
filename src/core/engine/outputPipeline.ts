/**
 * The encrypt/write step: archive bytes → (OpenPGP, when a passphrase is given) → hashing →
 * the destination's temp file. Everything is a stream with backpressure: memory stays bounded.
 */
import { createHash } from 'node:crypto';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { encryptStream } from '../archive/pgp';
import { ParallelSha1 } from '../archive/parallelSha1';
import type { FileSink } from './destination';

export interface Written {
  size: number;
  sha256: string;
}

/**
 * Counts and hashes what goes by (the archive as written: ciphertext when encrypted). With
 * `thread`, SHA-256 runs on a second thread (parallelSha1.ts): the chunk is copied into its
 * ring and passed on, so this thread only pays the copy.
 */
export function hashing(onBytes?: (total: number) => void, thread = false): Transform & { result(): Promise<Written> } {
  const inline = thread ? undefined : createHash('sha256');
  const parallel = thread ? new ParallelSha1('sha256') : undefined;
  let size = 0;
  const t = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      size += chunk.length;
      onBytes?.(size);
      if (inline) {
        inline.update(chunk);
        return cb(null, chunk);
      }
      parallel!.update(chunk).then(() => cb(null, chunk), cb);
    },
    flush(cb) {
      result();
      cb();
    },
    destroy(err, cb) {
      if (err) parallel?.close(); // abandoned: no digest will be asked for
      cb(err);
    },
  }) as Transform & { result(): Promise<Written> };
  let digest: Promise<string> | undefined;
  const result = () => (digest ??= inline ? Promise.resolve(inline.digest('hex')) : parallel!.digest().then((d) => d.toString('hex')));
  t.result = async () => ({ size, sha256: await result() });
  return t;
}

export interface WriteOptions {
  signal?: AbortSignal;
  onBytes?: (total: number) => void;
  /**
   * Hash (output SHA-256, and the MDC's SHA-1 when encrypting) on second threads: for the
   * archive when a core is free (hashThreadPays()), never for the small log.
   */
  hashThreads?: boolean;
}

/** Streams `source` into `sink`, encrypting when `passphrase` is set; resolves after the last byte is flushed. */
export async function writeOut(source: Readable, sink: FileSink, passphrase: string | undefined, opts: WriteOptions = {}): Promise<Written> {
  const counted = hashing(opts.onBytes, opts.hashThreads);
  const body = passphrase ? await encryptStream(source, passphrase, { mdcThread: opts.hashThreads }) : source;
  await pipeline(body, counted, sink.stream, { signal: opts.signal });
  return counted.result();
}

/** A small in-memory file (the log) through the same path. */
export function writeBuffer(data: Buffer, sink: FileSink, passphrase: string | undefined, signal?: AbortSignal): Promise<Written> {
  return writeOut(Readable.from([data]), sink, passphrase, { signal });
}
