/**
 * A file's bytes in chunks, with the next reads already running while one is consumed:
 * `createReadStream` has one read in flight, so every chunk waited for the page-cache copy
 * and then the copy waited for the decryptor (~10% of verify's wall time was idle).
 *
 * The chunks are a small ring of buffers, reused: a fresh 256 KiB buffer per read left
 * glibc's heap fragmented and peak RSS growing with the file (126 → 103 MiB at 4 GiB with the
 * ring). Contract: a consumer may keep a chunk (or a view of it) only until it has pulled
 * KEEP more; everything downstream of verify's reader copies what it keeps longer (tar
 * headers, pax records, captured files, etcd head, armor text, cipher carry-over), and the
 * OpenPGP.js fallback, which queues many chunks, gets copies (verify.ts).
 */
import { open } from 'node:fs/promises';

const KEEP = 3;

export async function* readAhead(path: string, chunk: number, depth = 2): AsyncGenerator<Buffer> {
  const fh = await open(path, 'r');
  const ring = Array.from({ length: depth + KEEP + 1 }, () => Buffer.allocUnsafeSlow(chunk));
  let reads = 0;
  const read = async (): Promise<Buffer> => {
    const buf = ring[reads % ring.length];
    const at = reads++ * chunk;
    const { bytesRead } = await fh.read(buf, 0, chunk, at);
    return buf.subarray(0, bytesRead);
  };
  const queue: Promise<Buffer>[] = [];
  // A read ahead may fail while an earlier one is awaited: without a handler attached at once,
  // Node reports it as an unhandled rejection (a stack trace) even though it is awaited later.
  const ahead = () => {
    const p = read();
    p.catch(() => undefined);
    queue.push(p);
  };
  try {
    for (let i = 0; i < depth; i++) ahead();
    for (;;) {
      const b = await queue.shift()!;
      if (b.length) yield b;
      // Regular files read short only at their end.
      if (b.length < chunk) return;
      ahead();
    }
  } finally {
    await Promise.allSettled(queue);
    await fh.close();
  }
}
