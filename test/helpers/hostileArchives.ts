/**
 * Inputs made to push verify's limits, streamed so nothing big is ever on disk: a tar of
 * many tiny entries written header by header, zeros for a compression bomb, and a child
 * run of the bundled CLI that reads its backup from a generator on stdin (`verify -`) and
 * reports its peak RSS like runMeasured (archives.ts).
 */
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { MeasuredRun } from './archives';

/** A ustar header with an octal size (or base-256 when it does not fit 11 octal digits). */
export function tarHeader(name: string, size: number, opts: { type?: string; mode?: number; mtime?: number } = {}): Buffer {
  const b = Buffer.alloc(512);
  b.write(name, 0, 100, 'utf8');
  b.write(((opts.mode ?? 0o644).toString(8).padStart(7, '0')) + '\0', 100);
  b.write('0000000\0', 108);
  b.write('0000000\0', 116);
  if (size < 8 ** 11) b.write(size.toString(8).padStart(11, '0') + '\0', 124);
  else {
    // GNU base-256: high bit of the first byte set, big-endian value in the rest.
    b[124] = 0x80;
    let v = BigInt(size);
    for (let i = 135; i > 124; i--, v >>= 8n) b[i] = Number(v & 0xffn);
  }
  b.write((opts.mtime ?? 0).toString(8).padStart(11, '0') + '\0', 136);
  b.write(opts.type ?? '0', 156);
  b.write('ustar\x0000', 257);
  return withChecksum(b);
}

export function withChecksum(b: Buffer): Buffer {
  b.write('        ', 148);
  let sum = 0;
  for (const x of b) sum += x;
  b.write(sum.toString(8).padStart(6, '0') + '\0 ', 148);
  return b;
}

/** A tar of `n` one-byte files ./d/f0 … (or names from `name`) in batches (never the whole archive in memory). */
export async function* manyEntriesTar(n: number, name = (i: number) => `./d/f${i}`): AsyncGenerator<Buffer> {
  const data = Buffer.alloc(512);
  data[0] = 0x61;
  let batch: Buffer[] = [];
  for (let i = 0; i < n; i++) {
    batch.push(tarHeader(name(i), 1), data);
    if (batch.length >= 2048) {
      yield Buffer.concat(batch);
      batch = [];
    }
  }
  batch.push(Buffer.alloc(1024));
  yield Buffer.concat(batch);
}

/** `n` bytes of zeros, 1 MiB at a time. */
export async function* zeros(n: number): AsyncGenerator<Buffer> {
  const block = Buffer.alloc(1 << 20);
  for (let left = n; left > 0; left -= block.length) yield left >= block.length ? block : block.subarray(0, left);
}

/** A tar holding one file of `size` zero bytes (a compression bomb once compressed), streamed. */
export async function* zeroFileTar(name: string, size: number): AsyncGenerator<Buffer> {
  yield tarHeader(name, size);
  yield* zeros(size);
  yield Buffer.alloc((512 - (size % 512)) % 512 + 1024);
}

/** Runs the bundled CLI (bundleCli) with `stdin` piped in, and reads its peak RSS. */
export function runMeasuredWithStdin(cli: string, args: string[], stdin: AsyncIterable<Buffer>, keepStdout = false): Promise<MeasuredRun & { stdoutBytes: number }> {
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    const child = spawn(process.execPath, ['--require', join(dirname(cli), 'peak-rss.js'), cli, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    // Unless asked, only the head, tail and byte count of stdout are kept.
    const all: Buffer[] = [];
    let stdoutBytes = 0;
    let stdoutHead = '';
    let stdoutTail = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      stdoutBytes += d.length;
      if (keepStdout) all.push(d);
      if (stdoutHead.length < 4096) stdoutHead += d.toString();
      stdoutTail = (stdoutTail + d.toString()).slice(-16384);
    });
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    // The child may stop reading early (an error): that is its answer, not ours to fail on.
    pipeline(stdin, child.stdin).catch(() => undefined);
    child.on('close', (code) => {
      const m = /\nPEAK (\{.*\})\n/.exec(stderr);
      const peak = m ? (JSON.parse(m[1]) as { maxRssKiB: number; vmHwmKiB: number; cpuMs: number }) : { maxRssKiB: NaN, vmHwmKiB: NaN, cpuMs: NaN };
      resolve({
        code,
        stdout: keepStdout ? Buffer.concat(all).toString() : stdoutBytes <= stdoutHead.length ? stdoutHead : `${stdoutHead}\n…\n${stdoutTail}`,
        stderr: stderr.replace(/\nPEAK .*\n/, ''),
        // VmHWM is the child's own: getrusage's maxRSS survives exec on Linux, so it also counts
        // the test process the child was forked from (a test holding a 50 MB listing read 133 MiB).
        peakRssMiB: (peak.vmHwmKiB > 0 ? peak.vmHwmKiB : peak.maxRssKiB) / 1024,
        cpuMs: peak.cpuMs,
        wallMs: Number(process.hrtime.bigint() - t0) / 1e6,
        stdoutBytes,
      });
    });
  });
}

/** A tar of `n` small container inspect documents ./ucp-c<i>.json (the first one the controller's), each with a version label. */
export async function* manyInspectTar(n: number): AsyncGenerator<Buffer> {
  let batch: Buffer[] = [];
  for (let i = 0; i < n; i++) {
    const name = i === 0 ? './ucp-controller.json' : `./ucp-c${i}.json`;
    const doc = Buffer.from(JSON.stringify([{ Name: `/c${i}`, Config: { Labels: { 'com.docker.ucp.version': i === 0 ? '3.2.4' : `3.1.${i % 10}` } } }]));
    batch.push(tarHeader(name, doc.length), doc, Buffer.alloc((512 - (doc.length % 512)) % 512));
    if (batch.length >= 3000) {
      yield Buffer.concat(batch);
      batch = [];
    }
  }
  batch.push(Buffer.alloc(1024));
  yield Buffer.concat(batch);
}
