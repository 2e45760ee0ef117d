/**
 * SHA-1/SHA-256 streams that can run on worker threads. Verify hashes every byte up to
 * three times (file SHA-256, OpenPGP MDC SHA-1, per-entry SHA-256): on one thread that is
 * ~3 s per GiB here, slower than `gpg --decrypt | tar --list` (two processes). Workers
 * receive copies (structured clone of a view would copy its whole ArrayBuffer) and ack
 * each update, so the reader can wait when they fall behind and memory stays bounded.
 */
import { createHash } from 'node:crypto';
import { Worker } from 'node:worker_threads';

export type HashAlgo = 'sha1' | 'sha256';

export interface StreamHash {
  update(data: Uint8Array): void;
  digest(): Promise<Buffer>;
}

export interface HashFactory {
  /** `lane` picks the worker, to spread the passes over cores. */
  create(algo: HashAlgo, lane: number): StreamHash;
  /** Resolves when queued work is small enough to read more input; undefined when nothing waits. */
  backpressure(): Promise<void> | undefined;
  close(): Promise<void>;
}

export function localHashes(): HashFactory {
  return {
    create(algo) {
      const h = createHash(algo);
      return { update: (d) => void h.update(d), digest: async () => h.digest() };
    },
    backpressure: () => undefined,
    close: async () => undefined,
  };
}

// Kept as source text so the same code runs under tsx and from the esbuild bundle.
const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const { createHash } = require('node:crypto');
const hashes = new Map();
parentPort.on('message', (m) => {
  if (m.op === 'create') hashes.set(m.id, createHash(m.algo));
  else if (m.op === 'update') {
    hashes.get(m.id).update(new Uint8Array(m.buf));
    parentPort.postMessage({ op: 'ack', bytes: m.buf.byteLength });
  } else if (m.op === 'digest') {
    const h = hashes.get(m.id);
    hashes.delete(m.id);
    const d = h.digest();
    parentPort.postMessage({ op: 'digest', id: m.id, digest: d.buffer.slice(d.byteOffset, d.byteOffset + d.length) });
  }
});
`;

/** Updates smaller than this stay on the calling thread until they add up (tar headers, small files). */
const BATCH = 64 * 1024;
/** Bytes queued to workers before the reader waits. */
const MAX_QUEUED = 32 * 1024 * 1024;

export function workerHashes(lanes = 2): HashFactory {
  const workers = Array.from({ length: lanes }, () => {
    const w = new Worker(WORKER_SOURCE, { eval: true });
    w.unref();
    return w;
  });
  let queued = 0;
  let wake: (() => void) | undefined;
  let failure: Error | undefined;
  let nextId = 1;
  const digests = new Map<number, (d: Buffer) => void>();
  for (const w of workers) {
    w.on('message', (m: { op: string; bytes?: number; id?: number; digest?: ArrayBuffer }) => {
      if (m.op === 'ack') {
        queued -= m.bytes!;
        if (wake && queued <= MAX_QUEUED / 2) {
          wake();
          wake = undefined;
        }
      } else if (m.op === 'digest') {
        digests.get(m.id!)?.(Buffer.from(m.digest!));
        digests.delete(m.id!);
      }
    });
    w.on('error', (err) => {
      failure = err;
      wake?.();
    });
  }
  return {
    create(algo, lane) {
      const w = workers[lane % workers.length];
      const id = nextId++;
      w.postMessage({ op: 'create', id, algo });
      let pending: Buffer[] = [];
      let pendingLen = 0;
      const send = (buf: Uint8Array) => {
        // A fresh ArrayBuffer of exactly these bytes, moved (not cloned) to the worker.
        const copy = new Uint8Array(buf);
        queued += copy.byteLength;
        w.postMessage({ op: 'update', id, buf: copy.buffer }, [copy.buffer]);
      };
      const flush = () => {
        if (pendingLen) send(pendingLen === pending[0].length ? pending[0] : Buffer.concat(pending, pendingLen));
        pending = [];
        pendingLen = 0;
      };
      return {
        update(data) {
          if (data.length >= BATCH) {
            flush();
            send(data);
            return;
          }
          pending.push(Buffer.from(data));
          pendingLen += data.length;
          if (pendingLen >= BATCH) flush();
        },
        digest() {
          flush();
          return new Promise<Buffer>((resolve) => {
            digests.set(id, resolve);
            w.postMessage({ op: 'digest', id });
          });
        },
      };
    },
    backpressure() {
      if (failure) return Promise.reject(failure);
      if (queued <= MAX_QUEUED) return undefined;
      return new Promise<void>((resolve) => (wake = resolve));
    },
    async close() {
      await Promise.all(workers.map((w) => w.terminate()));
    },
  };
}
