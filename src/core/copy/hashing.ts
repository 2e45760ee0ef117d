/** A pass-through that hashes what flows (SHA-256) and counts it: the copy's checksum as sent. */
import { createHash } from 'node:crypto';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { SourceChangedError } from './errors';

export interface Hashing extends Transform {
  digest(): { sha256: string; size: number };
}

/**
 * With `expect`, a source whose hash differs from its record fails at its end, before the
 * upload can complete: a damaged archive never becomes a copy that looks good.
 */
export function hashing(expect?: { sha256?: string; what: string }): Hashing {
  const hash = createHash('sha256');
  let size = 0;
  let hex: string | undefined;
  const t = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      hash.update(chunk);
      size += chunk.length;
      cb(null, chunk);
    },
    flush(cb) {
      const found = (hex ??= hash.digest('hex'));
      cb(expect?.sha256 && expect.sha256 !== found ? new SourceChangedError(expect.what, expect.sha256, found) : null);
    },
  }) as Hashing;
  t.digest = () => ({ sha256: (hex ??= hash.digest('hex')), size });
  return t;
}

/** SHA-256 and size of everything a stream gives (reading a copy back). */
export async function hashStream(stream: Readable, signal?: AbortSignal): Promise<{ sha256: string; size: number }> {
  const h = hashing();
  await pipeline(stream, h, async function* (src) {
    for await (const _ of src) void _;
  }, { signal });
  return h.digest();
}
