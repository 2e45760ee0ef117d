/**
 * An archive cut at any byte is never VALID and never a crash: cuts at every byte of the
 * OpenPGP packet headers (session key, encrypted data, partial-length headers), through the
 * encrypted body, the MDC at the end, and — in the plaintext — every tar header, data and
 * padding edge and the end-of-archive blocks. Each cut gets an INVALID report whose failing
 * check says why, or one of our own errors with a sentence (an empty file is "not a UCP
 * backup"); a handful also go through the CLI, which must print one line and no stack trace.
 * Archives are made at test time by GNU tar and gpg (uncompressed, zlib, bzip2, armored).
 */
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { UcpError } from '../../src/core/errors';
import { verifyBackup } from '../../src/core/verify/verify';
import { bundleCli, gpgEncrypt, makeTar, passFile, PASSPHRASE, runMeasured, tempDir } from '../helpers/archives';

const dir = tempDir('ucp-verify-cut-');
after(() => rmSync(dir, { recursive: true, force: true }));
let tar: Buffer;
let tarFile: string;
before(() => {
  tarFile = makeTar(dir, { manifest: true });
  tar = readFileSync(tarFile);
});

type Outcome = { kind: 'report'; verdict: string; why: string } | { kind: 'error'; name: string; message: string };

async function verifyBytes(b: Buffer): Promise<Outcome> {
  try {
    const r = await verifyBackup({ kind: 'stream', label: 'cut', open: async () => (async function* () { if (b.length) yield b; })() }, { passphrase: PASSPHRASE, hashEntries: true });
    // The layer's own finding first (integrity, tar); the counts and missing files follow from it.
    const order = ['integrity', 'tar'];
    const failed = r.checks.filter((c) => !c.pass).sort((a, b) => rank(a.id) - rank(b.id));
    function rank(id: string): number {
      return order.includes(id) ? order.indexOf(id) : order.length;
    }
    return { kind: 'report', verdict: r.verdict, why: failed.map((c) => `${c.id}: ${c.reason}`).join('; ') };
  } catch (err) {
    // Only our errors (a sentence for the admin) are acceptable; anything else is a crash.
    if (!(err instanceof UcpError)) throw new Error(`crash: ${(err as Error)?.stack ?? err}`);
    return { kind: 'error', name: err.constructor.name, message: err.message };
  }
}

/** Where a tar's two end-of-archive blocks end (the record padding after them is zeros too). */
function endOfEndBlocks(t: Buffer): number {
  let dataEnd = t.length;
  while (dataEnd >= 512 && t.subarray(dataEnd - 512, dataEnd).every((b) => b === 0)) dataEnd -= 512;
  return dataEnd + 1024;
}

/** Offsets to cut at: every byte of the first and last `edge` bytes, every byte around each 512 boundary in `[from, to)`, and a spread between. */
function cuts(length: number, edge: number, spread: number): number[] {
  const at = new Set<number>();
  for (let i = 0; i < Math.min(edge, length); i++) at.add(i);
  for (let i = Math.max(0, length - edge); i < length; i++) at.add(i);
  for (let i = 0; i < spread; i++) at.add(Math.floor((i * length) / spread));
  return [...at].sort((a, b) => a - b);
}

/**
 * `validFrom`: a plain tar cut at a block edge after its two end blocks is whole for GNU tar
 * too (only record padding, zeros, is gone): VALID is the right answer there. Cut inside a
 * block it is still INVALID (stricter than tar: a file that is not whole blocks was cut).
 */
async function assertEveryCutInvalid(what: string, whole: Buffer, offsets: number[], validFrom = Infinity, reportFrom = Infinity): Promise<string[]> {
  const seen = new Map<string, number>();
  for (const n of offsets) {
    const o = await verifyBytes(whole.subarray(0, n));
    const label = `${what} cut at ${n} of ${whole.length}`;
    if (n >= validFrom && n % 512 === 0) {
      assert.deepEqual(o.kind === 'report' ? o.verdict : o, 'VALID', `${label} (only record padding cut)`);
      continue;
    }
    // A tar cut after its first name field is still known for a tar: a report says where it ends.
    if (n >= reportFrom) assert.equal(o.kind, 'report', `${label}: ${JSON.stringify(o)}`);
    if (o.kind === 'report') {
      assert.equal(o.verdict, 'INVALID', label);
      assert.ok(o.why.length > 0, `${label}: INVALID without a reason`);
    } else assert.ok(o.message.length > 10 && !/\n\s+at /.test(o.message), `${label}: ${o.name} ${o.message}`);
    const key = o.kind === 'report' ? o.why.replace(/\d+/g, 'N').slice(0, 90) : `${o.name}: ${o.message.replace(/\d+/g, 'N').slice(0, 80)}`;
    seen.set(key, (seen.get(key) ?? 0) + 1);
  }
  // The intact archive is VALID (so the cuts are what made them INVALID).
  const whole1 = await verifyBytes(whole);
  assert.deepEqual(whole1.kind === 'report' ? whole1.verdict : whole1, 'VALID', what);
  return [...seen].map(([k, n]) => `${what}: ${String(n).padStart(4)} × ${k}`);
}

test('plain GNU tar cut at every header, data and end-block edge: never VALID, never a crash', async (t) => {
  // Every byte around every 512-byte block edge: headers, data, padding, the two end blocks.
  const offsets = new Set(cuts(tar.length, 1100, 40));
  for (let b = 0; b < tar.length; b += 512) for (const d of [-1, 0, 1, 100, 156, 157, 257]) if (b + d > 0 && b + d < tar.length) offsets.add(b + d);
  const endMarker = endOfEndBlocks(tar);
  for (const d of [-513, -512, -511, -1, 0, 1]) offsets.add(endMarker + d);
  // GNU tar is laxer before that point (a tar cut at a header edge, without end blocks, lists
  // silently): verify calls a backup without its end-of-archive marker truncated.
  assert.equal(spawnSync('tar', ['-t'], { input: tar.subarray(0, endMarker) }).status, 0, 'GNU tar takes the tar cut after its end blocks');
  const lines = await assertEveryCutInvalid('tar', tar, [...offsets].sort((a, b) => a - b), endMarker, 100);
  t.diagnostic('\n' + lines.join('\n'));
});

for (const [what, args] of [
  ['gpg, uncompressed', ['--compress-algo', 'none']],
  ['gpg, zlib', ['--compress-algo', 'zlib']],
  ['gpg, bzip2', ['--compress-algo', 'bzip2']],
  ['gpg --armor', ['--compress-algo', 'none', '--armor']],
] as const) {
  test(`${what}: cut at every packet-header and MDC byte and through the body: never VALID, never a crash`, async (t) => {
    const file = gpgEncrypt(dir, tarFile, ['--s2k-count', '65536', ...args]);
    const whole = readFileSync(file);
    // gpg writes 8 KiB partial-length chunks: every byte around each chunk header too.
    const offsets = new Set(cuts(whole.length, 120, 120));
    for (let c = 0; c < whole.length; c += 8192) for (let d = -3; d <= 8; d++) if (c + d > 0 && c + d < whole.length) offsets.add(c + d);
    const lines = await assertEveryCutInvalid(what, whole, [...offsets].sort((a, b) => a - b));
    t.diagnostic('\n' + lines.join('\n'));
  });
}

test('the CLI on cut archives: exit 1 or 2, one line on stderr at most, never a stack trace', async () => {
  const cli = await bundleCli(dir);
  const enc = readFileSync(gpgEncrypt(dir, tarFile, ['--s2k-count', '65536', '--compress-algo', 'none']));
  const cases: [string, Buffer][] = [
    ['empty', Buffer.alloc(0)],
    ['one byte of OpenPGP', enc.subarray(0, 1)],
    ['inside the session key packet', enc.subarray(0, 9)],
    ['inside the encrypted data header', enc.subarray(0, 20)],
    ['inside the MDC', enc.subarray(0, enc.length - 7)],
    ['inside a tar header', tar.subarray(0, 512 + 300)],
    ['between the end blocks', tar.subarray(0, endOfEndBlocks(tar) - 512)],
  ];
  const pass = passFile(dir);
  for (const [what, bytes] of cases) {
    const f = join(dir, 'cut.bin');
    writeFileSync(f, bytes);
    const r = await runMeasured(cli, ['verify', f, '--passphrase-file', pass]);
    assert.ok(r.code === 1 || r.code === 2, `${what}: exit ${r.code}`);
    assert.doesNotMatch(r.stderr + r.stdout, /\n\s+at |Error:|node:internal/, `${what}: ${r.stderr}`);
    assert.ok(r.stderr.trim().split('\n').filter(Boolean).length <= 1, `${what}: ${r.stderr}`);
    // A report (INVALID with a failing check), or one sentence (e.g. not a backup: exit 1, damage found before any tar: exit 2).
    if (r.stdout) assert.match(r.stdout, /: INVALID\n[\s\S]*FAIL/, what);
    else assert.match(r.stderr, /^ucp-backup: \S.*\.\s*$/, what);
  }
});
