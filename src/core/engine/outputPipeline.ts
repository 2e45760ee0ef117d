/**
 * The encrypt/write step: archive bytes → (OpenPGP, when a passphrase is given) → hashing →
 * the destination's temp file. Everything is a stream with backpressure: memory stays bounded.
 */
import { createHash } from 'node:crypto';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { encryptStream } from '../archive/pgp';
import type { FileSink } from './destination';

export interface Written {
  size: number;
  sha256: string;
}

/** Counts and hashes what goes by (the archive as written: ciphertext when encrypted). */
export function hashing(onBytes?: (total: number) => void): Transform & { result(): Written } {
  const hash = createHash('sha256');
  let size = 0;
  const t = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      hash.update(chunk);
      size += chunk.length;
      onBytes?.(size);
      cb(null, chunk);
    },
  }) as Transform & { result(): Written };
  let digest: string | undefined;
  t.result = () => ({ size, sha256: (digest ??= hash.digest('hex')) });
  return t;
}

/** Streams `source` into `sink`, encrypting when `passphrase` is set; resolves after the last byte is flushed. */
export async function writeOut(source: Readable, sink: FileSink, passphrase: string | undefined, signal?: AbortSignal, onBytes?: (total: number) => void): Promise<Written> {
  const counted = hashing(onBytes);
  const body = passphrase ? await encryptStream(source, passphrase) : source;
  await pipeline(body, counted, sink.stream, { signal });
  return counted.result();
}

/** A small in-memory file (the log) through the same path. */
export function writeBuffer(data: Buffer, sink: FileSink, passphrase: string | undefined, signal?: AbortSignal): Promise<Written> {
  return writeOut(Readable.from([data]), sink, passphrase, signal);
}
