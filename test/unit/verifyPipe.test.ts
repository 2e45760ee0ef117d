/**
 * `ucp-backup verify -` (the backup on stdin, e.g. `ssh host cat b.tar | ucp-backup verify -`)
 * and a named pipe work: read once, front to back, also when the archive needs OpenPGP.js
 * (CAST5, bzip2), which used to read the file a second time. Whatever comes down the pipe,
 * the answer is a report or one sentence and a non-zero exit, never a Node stack trace.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { createReadStream, createWriteStream, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { verifyBackup } from '../../src/core/verify/verify';
import { runCli } from '../helpers/cli';
import { gpgEncrypt, makeTar, passFile, PASSPHRASE, tempDir } from '../helpers/archives';

const dir = tempDir();
after(() => rmSync(dir, { recursive: true, force: true }));
const pass = passFile(dir);
const tar = makeTar(dir);
const zlib = gpgEncrypt(dir, tar);
const cast5 = gpgEncrypt(dir, tar, ['--cipher-algo', 'CAST5']);
const bzip2 = gpgEncrypt(dir, tar, ['--compress-algo', 'bzip2']);
const armored = gpgEncrypt(dir, tar, ['--armor']);

let fifos = 0;
/** A named pipe that `file` is written into once a reader opens it. */
function fifoOf(file: string): { path: string; written: Promise<void> } {
  const path = join(dir, `pipe-${fifos++}`);
  assert.equal(spawnSync('mkfifo', [path]).status, 0);
  const written = pipeline(createReadStream(file), createWriteStream(path)).catch(() => undefined);
  return { path, written };
}

/** Stderr of a run that must not show Node's internals. */
function assertNoStackTrace(stderr: string, what: string): void {
  assert.doesNotMatch(stderr, /\n\s+at |node:internal|internal error|Unhandled|TypeError|RangeError/, `${what}: ${stderr}`);
}

test('verify - reads the backup from stdin: VALID, exit 0, labelled stdin', async () => {
  for (const file of [zlib, armored, tar]) {
    const r = await runCli(['verify', '-', '--passphrase-file', pass], { stdin: readFileSync(file) });
    assert.equal(r.code, 0, r.stderr + r.stdout);
    assert.match(r.stdout, /^stdin: VALID\n/);
    assert.match(r.stdout, /28 entries/);
  }
});

test('verify - with the OpenPGP.js ciphers and compressions (CAST5, bzip2): one pass over stdin', async () => {
  for (const [file, how] of [[cast5, /OpenPGP CAST5/], [bzip2, /compression BZIP2/]] as const) {
    const r = await runCli(['verify', '-', '--passphrase-file', pass, '--json', '--sha256'], { stdin: readFileSync(file) });
    assert.equal(r.code, 0, r.stderr);
    const report = JSON.parse(r.stdout) as { verdict: string; bytes: number; sha256: string; cipher: string; compression: string };
    assert.equal(report.verdict, 'VALID');
    assert.equal(report.bytes, readFileSync(file).length, 'every byte counted once');
    const { createHash } = await import('node:crypto');
    assert.equal(report.sha256, createHash('sha256').update(readFileSync(file)).digest('hex'), 'the hash covers each byte once, in order');
    assert.match(`OpenPGP ${report.cipher}, compression ${report.compression}`, how);
  }
});

test('a streamed source is opened once, also when the fast path hands over to OpenPGP.js', async () => {
  let opened = 0;
  const r = await verifyBackup({ kind: 'stream', label: 'a pipe', open: async () => (opened++, createReadStream(cast5, { highWaterMark: 1024 })) }, { passphrase: PASSPHRASE });
  assert.equal(r.verdict, 'VALID', JSON.stringify(r.checks));
  assert.equal(r.cipher, 'CAST5');
  assert.equal(opened, 1);
});

test('a named pipe (mkfifo) verifies like the file written into it', async () => {
  for (const file of [zlib, cast5]) {
    const fifo = fifoOf(file);
    const r = await runCli(['verify', fifo.path, '--passphrase-file', pass]);
    await fifo.written;
    assert.equal(r.code, 0, r.stderr + r.stdout);
    assert.match(r.stdout, /: VALID\n/);
  }
});

test('the passphrase and the backup cannot both come from stdin: exit 2 with a hint', async () => {
  const r = await runCli(['verify', '-', '--passphrase-file', '-'], { stdin: readFileSync(zlib) });
  assert.equal(r.code, 2);
  assert.match(r.stderr, /^ucp-backup: The backup and the passphrase cannot both come from stdin\. .*--passphrase-file FILE/);
});

test('reading ahead on a pipe never leaves a rejection unhandled (it was a stack trace once in a while)', async () => {
  // In a child whose stdin is a pipe kept open: pread there fails (ESPIPE) for every read in
  // flight, and only the first is awaited; the others used to reject with no handler yet.
  // That race shows only some of the time (0 to 300 of these 200 runs, by hand): a guard, not proof.
  const script = join(dir, 'read-ahead-pipe.ts');
  writeFileSync(script, `import { readAhead } from ${JSON.stringify(join(__dirname, '..', '..', 'src', 'core', 'archive', 'readAhead'))};
let unhandled = 0;
process.on('unhandledRejection', () => unhandled++);
(async () => {
  for (let i = 0; i < 200; i++) {
    try { for await (const _ of readAhead('/dev/stdin', 65536, 4)); } catch {}
  }
  await new Promise((r) => setTimeout(r, 50));
  process.stdout.write(String(unhandled));
  process.exit(0);
})();
`);
  const child = spawn(process.execPath, ['--import', 'tsx', script], { stdio: ['pipe', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stdin.on('error', () => undefined);
  await new Promise((resolve) => child.on('close', resolve));
  assert.equal(out, '0', 'unhandled rejections');
});

/** Inputs cut, flipped or made up: each gets a report (INVALID) or one sentence, and a non-zero exit. */
function hostileInputs(): [string, Buffer][] {
  const z = readFileSync(zlib);
  const c = readFileSync(cast5);
  const b = readFileSync(bzip2);
  const a = readFileSync(armored);
  const flipped = Buffer.from(z);
  flipped[flipped.length >> 1] ^= 0x40;
  return [
    ['nothing at all', Buffer.alloc(0)],
    ['one OpenPGP header byte', Buffer.from([0x8c])],
    ['4 KiB of zeros', Buffer.alloc(4096)],
    ['random bytes after a SKESK tag', Buffer.concat([Buffer.from([0x8c, 0x0d]), Buffer.alloc(600, 0xa5)])],
    ['a packet announcing 4 GiB', Buffer.from([0xc3, 0xff, 0xff, 0xff, 0xff, 0xff, 4, 9, 3])],
    ['a BEGIN line and nothing more', Buffer.from('-----BEGIN PGP MESSAGE-----\n')],
    ...[1, 14, 15, 16, 40, z.length >> 1, z.length - 1].map((n) => [`zlib message cut at byte ${n}`, z.subarray(0, n)] as [string, Buffer]),
    ['zlib message with a flipped byte', flipped],
    ['CAST5 message cut in half (OpenPGP.js)', c.subarray(0, c.length >> 1)],
    ['bzip2 message cut in half (OpenPGP.js)', b.subarray(0, b.length >> 1)],
    ['armored message cut in half', a.subarray(0, a.length >> 1)],
    ['plain tar cut in half', readFileSync(tar).subarray(0, 10_000)],
  ];
}

test('hostile input on stdin: a report or one sentence, a non-zero exit, never a stack trace', async () => {
  const cases = hostileInputs();
  // Four at a time: each case is a CLI process.
  for (let i = 0; i < cases.length; i += 4) {
    await Promise.all(cases.slice(i, i + 4).map(async ([what, bytes]) => {
      const r = await runCli(['verify', '-', '--passphrase-file', pass], { stdin: bytes });
      assert.notEqual(r.code, 0, `${what}: exit 0\n${r.stdout}`);
      assertNoStackTrace(r.stderr, what);
      if (r.code === 1 && r.stdout) assert.match(r.stdout, /^stdin: INVALID\n/, what);
      else assert.match(r.stderr, /^ucp-backup: [^\n]+\n$/, `${what}: one line on stderr`);
    }));
  }
});

test('hostile input through a named pipe: the same answers', async () => {
  for (const [what, bytes] of hostileInputs().filter((_, i) => i % 3 === 0)) {
    const src = join(dir, `hostile-${fifos}`);
    writeFileSync(src, bytes);
    const fifo = fifoOf(src);
    const r = await runCli(['verify', fifo.path, '--passphrase-file', pass]);
    await fifo.written;
    assert.notEqual(r.code, 0, what);
    assertNoStackTrace(r.stderr, what);
  }
});
