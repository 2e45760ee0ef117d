/**
 * Our streaming bzip2 decoder (bzip2.ts) against real libbz2 (Python's bz2 module, the
 * library gpg links): every kind of data at block sizes 1 and 9, input in any piece size,
 * damage and truncation refused with a reason, output in bounded pieces.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { bunzip2 } from '../../src/core/archive/bzip2';
import { CorruptArchiveError, UnsupportedArchiveError } from '../../src/core/archive/errors';

function libbz2(data: Buffer, level: number): Buffer {
  const r = spawnSync('python3', ['-c', `import bz2,sys; sys.stdout.buffer.write(bz2.compress(sys.stdin.buffer.read(), ${level}))`], { input: data, maxBuffer: 1 << 28 });
  assert.equal(r.status, 0, String(r.stderr));
  return r.stdout;
}

async function* pieces(b: Buffer, size: number): AsyncGenerator<Buffer> {
  for (let i = 0; i < b.length; i += size) yield b.subarray(i, i + size);
}

async function decode(b: Buffer, pieceSize = 65536): Promise<{ out: Buffer; largest: number }> {
  const parts: Buffer[] = [];
  let largest = 0;
  for await (const p of bunzip2(pieces(b, pieceSize))) {
    largest = Math.max(largest, p.length);
    parts.push(Buffer.from(p)); // pieces are reused buffers: copy what is kept
  }
  return { out: Buffer.concat(parts), largest };
}

/** Deterministic noise (does not compress). */
function noise(n: number): Buffer {
  const out = Buffer.alloc(n);
  let seed = createHash('sha256').update('bzip2').digest();
  for (let i = 0; i < n; i += 32) {
    seed = createHash('sha256').update(seed).digest();
    seed.copy(out, i);
  }
  return out;
}

const CASES: [string, Buffer][] = [
  ['empty', Buffer.alloc(0)],
  ['one byte', Buffer.from('x')],
  ['every byte value', Buffer.from(Array.from({ length: 256 }, (_, i) => i))],
  ['text', Buffer.from('ucp-controller-server-certs/key.pem\n'.repeat(20000))],
  // Runs of every length around the 4-byte run-length stage and its 255 limit.
  ['runs of 1..600', Buffer.concat(Array.from({ length: 600 }, (_, i) => Buffer.alloc(i + 1, i % 7 === 0 ? 0 : i & 0xff)))],
  ['noise, several blocks at -1, two at -9', noise(1_000_000)],
  ['zeros, several blocks', Buffer.alloc(12_000_000)],
];

for (const level of [1, 9]) {
  test(`libbz2 -${level}: every case decodes to the same bytes`, async () => {
    for (const [name, data] of CASES) {
      const { out, largest } = await decode(libbz2(data, level));
      assert.ok(out.equals(data), `${name}: ${out.length} bytes, want ${data.length}`);
      assert.ok(largest <= 256 * 1024, `${name}: a ${largest}-byte piece`);
    }
  });
}

test('input in 1-, 7- and 4096-byte pieces (blocks straddle reads) decodes the same', async () => {
  const data = Buffer.concat([noise(150_000), Buffer.alloc(200_000, 0x41), Buffer.from('end')]);
  const z = libbz2(data, 1);
  for (const size of [1, 7, 4096]) assert.ok((await decode(z, size)).out.equals(data), `pieces of ${size}`);
});

test('a flipped byte anywhere, or the stream cut anywhere, is a CorruptArchiveError with a reason, never a crash', async () => {
  const data = Buffer.concat([Buffer.from('header '.repeat(1000)), noise(120_000), Buffer.alloc(300_000)]);
  const z = libbz2(data, 1);
  const step = Math.max(1, Math.floor(z.length / 60));
  for (let at = 0; at < z.length; at += step) {
    const flipped = Buffer.from(z);
    flipped[at] ^= 0x10;
    const cut = z.subarray(0, at);
    for (const [what, bad] of [['flip', flipped], ['cut', cut]] as const) {
      try {
        const { out } = await decode(bad);
        // A flip in the stream CRC's padding bits can leave the data intact: then it must decode exactly.
        assert.ok(what === 'flip' && out.equals(data), `${what} at ${at} of ${z.length}: decoded ${out.length} bytes without an error`);
      } catch (err) {
        // A flip of the "randomised" bit reads as that old form (inside OpenPGP the MDC decides first).
        assert.ok(err instanceof CorruptArchiveError || err instanceof UnsupportedArchiveError, `${what} at ${at}: ${(err as Error).stack}`);
        assert.match((err as Error).message, /bzip2|truncated|damaged/);
      }
    }
  }
});
