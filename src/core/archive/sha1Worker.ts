/**
 * SHA-1 of the plaintext (the OpenPGP MDC) on a worker thread, fed through a fixed
 * SharedArrayBuffer ring: a third of verify's CPU moves off the decrypting thread, with one
 * memcpy per chunk and no allocation (so no garbage for the GC to chase, RSS stays flat).
 * The writer waits (Atomics.waitAsync) when the worker falls a whole ring behind.
 */
import { createHash } from 'node:crypto';
import { Worker } from 'node:worker_threads';

export interface Sha1Sink {
  /** Undefined when the bytes were taken at once; a promise when the ring is full. */
  update(data: Buffer): Promise<void> | undefined;
  digest(): Promise<Buffer>;
  close(): void;
}

const RING = 4 * 1024 * 1024;

/** Atomics.waitAsync (Node 16+, V8) is not in TypeScript's ES2022 lib. */
const waitAsync = (Atomics as unknown as { waitAsync(a: Int32Array, i: number, v: number, t: number): { async: boolean; value: Promise<string> | string } }).waitAsync;
const W = 0; // bytes written (mod 2^31)
const R = 1; // bytes hashed (mod 2^31)
const DONE = 2;
const SLEEPING = 3; // the worker is (about to be) waiting for data
const MASK = 0x7fffffff;
/** Wake a sleeping worker only once this much is queued: fewer thread switches. */
const WAKE_AFTER = 256 * 1024;

// Source text, so the same code runs under tsx and from the esbuild bundle.
const WORKER = `
const { workerData, parentPort } = require('node:worker_threads');
const { createHash } = require('node:crypto');
const { ring, ctrl: sab, size } = workerData;
const ctrl = new Int32Array(sab);
const bytes = new Uint8Array(ring);
const h = createHash('sha1');
let r = 0;
for (;;) {
  const w = Atomics.load(ctrl, ${W});
  if (w === r) {
    if (Atomics.load(ctrl, ${DONE})) break;
    Atomics.store(ctrl, ${SLEEPING}, 1);
    // wait() returns at once when W moved after the load above: no wake-up is lost.
    Atomics.wait(ctrl, ${W}, w, 50);
    Atomics.store(ctrl, ${SLEEPING}, 0);
    continue;
  }
  const n = (w - r) & ${MASK};
  const at = r % size;
  const first = Math.min(n, size - at);
  h.update(bytes.subarray(at, at + first));
  if (n > first) h.update(bytes.subarray(0, n - first));
  r = (r + n) & ${MASK};
  Atomics.store(ctrl, ${R}, r);
  Atomics.notify(ctrl, ${R});
}
parentPort.postMessage(h.digest());
`;

/** On this thread: for small inputs a worker's start (~30 ms) costs more than it saves. */
export function localSha1(): Sha1Sink {
  const h = createHash('sha1');
  return { update: (d) => void h.update(d), digest: async () => h.digest(), close: () => undefined };
}

export function workerSha1(): Sha1Sink {
  const ring = new SharedArrayBuffer(RING);
  const ctrlBuf = new SharedArrayBuffer(16);
  const ctrl = new Int32Array(ctrlBuf);
  const bytes = new Uint8Array(ring);
  const worker = new Worker(WORKER, { eval: true, workerData: { ring, ctrl: ctrlBuf, size: RING } });
  const digest = new Promise<Buffer>((resolve, reject) => {
    worker.once('message', (d: Uint8Array) => resolve(Buffer.from(d)));
    worker.once('error', reject);
  });
  digest.catch(() => undefined);
  let w = 0;
  let unannounced = 0;

  const put = (data: Buffer, from: number, n: number) => {
    const at = w % RING;
    const first = Math.min(n, RING - at);
    bytes.set(data.subarray(from, from + first), at);
    if (n > first) bytes.set(data.subarray(from + first, from + n), 0);
    w = (w + n) & MASK;
    Atomics.store(ctrl, W, w);
    unannounced += n;
    if (unannounced >= WAKE_AFTER || free() < RING / 2) {
      unannounced = 0;
      if (Atomics.load(ctrl, SLEEPING)) Atomics.notify(ctrl, W);
    }
  };
  const free = () => RING - ((w - Atomics.load(ctrl, R)) & MASK);

  async function slow(data: Buffer, from: number): Promise<void> {
    while (from < data.length) {
      let room = free();
      while (room === 0) {
        const r = Atomics.load(ctrl, R);
        const waited = waitAsync(ctrl, R, r, 1000);
        if (waited.async) await waited.value;
        room = free();
      }
      const n = Math.min(room, data.length - from);
      put(data, from, n);
      from += n;
    }
  }

  return {
    update(data) {
      if (data.length <= free()) {
        put(data, 0, data.length);
        return undefined;
      }
      return slow(data, 0);
    },
    async digest() {
      Atomics.store(ctrl, DONE, 1);
      Atomics.notify(ctrl, W);
      try {
        return await digest;
      } finally {
        void worker.terminate();
      }
    },
    close() {
      void worker.terminate();
    },
  };
}
