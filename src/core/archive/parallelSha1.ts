/**
 * SHA-1 on a second thread, fed through a shared ring: the MDC's SHA-1 is the largest
 * single cost of verifying an encrypted backup (~40% of one core), and `gpg | tar`, the
 * baseline, runs on two cores too. The ring is fixed (RING bytes), so memory stays flat;
 * the writer waits asynchronously when it is full, never blocking the event loop.
 */
import { availableParallelism, loadavg } from 'node:os';
import { Worker } from 'node:worker_threads';

/**
 * Whether a second thread would help: only with a core to spare. On a busy machine the
 * hand-over (copies, wake-ups) costs more than it saves (docs/bench-verify.md).
 * UCP_VERIFY_HASH_THREAD=on|off overrides, for benchmarks.
 */
export function hashThreadPays(): boolean {
  const forced = process.env.UCP_VERIFY_HASH_THREAD;
  if (forced === 'on' || forced === 'off') return forced === 'on';
  // Measured (docs/bench-verify.md): a clear win at load 1.3 on 2 cores, a wash at load 5.
  return availableParallelism() >= 2 && loadavg()[0] < availableParallelism();
}

const RING = 2 * 1024 * 1024;
const WRITTEN = 0;
const READ = 1;
const SLEEPING = 2; // the worker is (about to be) in Atomics.wait: only then is a notify needed
/** Data is handed to the worker in batches this large: each wake-up is a futex syscall. */
const BATCH = 512 * 1024;
// Node 16+ has it; this project's TypeScript lib predates it.
const waitAsync = (Atomics as unknown as { waitAsync(a: BigInt64Array, i: number, v: bigint): { async: boolean; value: Promise<string> | string } }).waitAsync;

// Plain JS, run with `eval: true`: the CLI is one bundled file, there is no worker file to point at.
const WORKER = `
const { workerData, parentPort } = require('node:worker_threads');
const { createHash } = require('node:crypto');
const { sab, ring, algorithm } = workerData;
const ctl = new BigInt64Array(sab, 0, 3);
const data = Buffer.from(sab, 64, ring);
const sha1 = createHash(algorithm);
let read = 0n;
for (;;) {
  const w = Atomics.load(ctl, 0); // bytes written, or -(bytes + 1) once the writer is done
  const written = w < 0n ? -w - 1n : w;
  if (written === read) {
    if (w < 0n) break;
    Atomics.store(ctl, 2, 1n);
    Atomics.wait(ctl, 0, w);
    Atomics.store(ctl, 2, 0n);
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
  private published = 0;

  /** `algorithm`: any of Node's hashes; the backup's output pipeline uses it for SHA-256 too. */
  constructor(readonly algorithm: 'sha1' | 'sha256' = 'sha1') {
    this.worker = new Worker(WORKER, {
      eval: true,
      workerData: { sab: this.sab, ring: RING, algorithm },
      // It allocates next to nothing: small heaps keep the process's peak RSS down.
      resourceLimits: { maxYoungGenerationSizeMb: 1, maxOldGenerationSizeMb: 8 },
    });
    this.result = new Promise((resolve, reject) => {
      this.worker.once('message', (d: Uint8Array) => resolve(Buffer.from(d)));
      this.worker.once('error', reject);
      this.worker.once('exit', () => reject(new Error(`${algorithm} worker exited early`)));
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
        this.publish();
        const w = waitAsync(this.ctl, READ, BigInt(read));
        if (w.async) await Promise.race([w.value, this.result]); // a dead worker ends the wait with its error
        continue;
      }
      const pos = this.written % RING;
      const n = Math.min(free, b.length - at, RING - pos);
      b.copy(this.data, pos, at, at + n);
      at += n;
      this.written += n;
      if (this.written - this.published >= BATCH || free === n) this.publish();
    }
  }

  private publish(ended = false): void {
    this.published = this.written;
    Atomics.store(this.ctl, WRITTEN, ended ? -BigInt(this.written) - 1n : BigInt(this.written));
    if (ended || Atomics.load(this.ctl, SLEEPING) === 1n) Atomics.notify(this.ctl, WRITTEN);
  }

  async digest(): Promise<Buffer> {
    this.publish(true);
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
