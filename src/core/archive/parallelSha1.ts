/**
 * SHA-1 on a second thread, fed through a shared ring: the MDC's SHA-1 is the largest
 * single cost of verifying an encrypted backup (~40% of one core), and `gpg | tar`, the
 * baseline, runs on two cores too. The ring is fixed (RING bytes), so memory stays flat;
 * the writer waits asynchronously when it is full, never blocking the event loop.
 */
import { Worker } from 'node:worker_threads';

const RING = 4 * 1024 * 1024;
const WRITTEN = 0;
const READ = 1;
const ENDED = 2;
// Node 16+ has it; this project's TypeScript lib predates it.
const waitAsync = (Atomics as unknown as { waitAsync(a: BigInt64Array, i: number, v: bigint): { async: boolean; value: Promise<string> | string } }).waitAsync;

// Plain JS, run with `eval: true`: the CLI is one bundled file, there is no worker file to point at.
const WORKER = `
const { workerData, parentPort } = require('node:worker_threads');
const { createHash } = require('node:crypto');
const { sab, ring } = workerData;
const ctl = new BigInt64Array(sab, 0, 3);
const data = Buffer.from(sab, 64, ring);
const sha1 = createHash('sha1');
let read = 0n;
for (;;) {
  const written = Atomics.load(ctl, 0);
  if (written === read) {
    if (Atomics.load(ctl, 2) === 1n && Atomics.load(ctl, 0) === read) break;
    Atomics.wait(ctl, 0, read);
    continue;
  }
  const from = Number(read % BigInt(ring));
  const n = Number(written - read);
  const first = Math.min(n, ring - from);
  sha1.update(data.subarray(from, from + first));
  if (n > first) sha1.update(data.subarray(0, n - first));
  read = written;
  Atomics.store(ctl, 1, read);
  Atomics.notify(ctl, 1);
}
parentPort.postMessage(sha1.digest());
`;

export class ParallelSha1 {
  private readonly sab = new SharedArrayBuffer(64 + RING);
  private readonly ctl = new BigInt64Array(this.sab, 0, 3);
  private readonly data = Buffer.from(this.sab, 64, RING);
  private readonly worker: Worker;
  private readonly result: Promise<Buffer>;
  private written = 0;

  constructor() {
    this.worker = new Worker(WORKER, { eval: true, workerData: { sab: this.sab, ring: RING } });
    this.result = new Promise((resolve, reject) => {
      this.worker.once('message', (d: Uint8Array) => resolve(Buffer.from(d)));
      this.worker.once('error', reject);
      this.worker.once('exit', () => reject(new Error('SHA-1 worker exited early')));
    });
    this.result.catch(() => undefined); // surfaced by digest()
  }

  /** Copies `b` into the ring; waits (asynchronously) while the worker is a full ring behind. */
  async update(b: Buffer): Promise<void> {
    let at = 0;
    while (at < b.length) {
      const read = Number(Atomics.load(this.ctl, READ));
      const free = RING - (this.written - read);
      if (free === 0) {
        const w = waitAsync(this.ctl, READ, BigInt(read));
        if (w.async) await w.value;
        continue;
      }
      const pos = this.written % RING;
      const n = Math.min(free, b.length - at, RING - pos);
      b.copy(this.data, pos, at, at + n);
      at += n;
      this.written += n;
      Atomics.store(this.ctl, WRITTEN, BigInt(this.written));
      Atomics.notify(this.ctl, WRITTEN);
    }
  }

  async digest(): Promise<Buffer> {
    Atomics.store(this.ctl, ENDED, 1n);
    Atomics.notify(this.ctl, WRITTEN);
    try {
      return await this.result;
    } finally {
      void this.worker.terminate();
    }
  }

  /** Stops the worker when the data is abandoned (damage found, consumer stopped early). */
  close(): void {
    void this.worker.terminate();
  }
}
