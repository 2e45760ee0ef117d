/**
 * Our OpenPGP writer (seipdEncrypt.ts) against the real readers: GnuPG 2.2 (`gpg --decrypt`),
 * our own verify-path decryptor and OpenPGP.js. Sizes are chosen around the partial body
 * length boundaries of both packets and the 1/2/5-octet final lengths.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { decryptStream } from '../../src/core/archive/pgp';
import { decryptOpenPgp, type DecryptInfo } from '../../src/core/archive/openpgpDecrypt';
import { WrongPassphraseError } from '../../src/core/archive/errors';
import { createEncryptor, type SeipdOptions } from '../../src/core/archive/seipdEncrypt';

const PASS = 'secret12chars';
/** A small S2K count for the many boundary cases (65536 bytes hashed); the default is tested too. */
const FAST: SeipdOptions = { s2kCountByte: 0x60 };

async function collect(stream: AsyncIterable<Buffer>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of stream) parts.push(c);
  return Buffer.concat(parts);
}

/** Encrypts `plain` fed in uneven pieces (so chunk edges never line up with packet edges). */
function encrypt(plain: Buffer, passphrase = PASS, options: SeipdOptions = FAST): Promise<Buffer> {
  const pieces: Buffer[] = [];
  for (let at = 0, step = 7; at < plain.length; at += step, step = step * 3 + 1) pieces.push(plain.subarray(at, at + step));
  return collect(Readable.from(pieces).pipe(createEncryptor(passphrase, options)));
}

function withGpg(fn: (gpg: (args: string[], input: Buffer, pass?: string) => ReturnType<typeof spawnSync>) => Promise<void>) {
  return async () => {
    const dir = mkdtempSync(join(tmpdir(), 'seipd-'));
    try {
      const home = join(dir, 'gnupg');
      spawnSync('mkdir', ['-m', '700', home]);
      const passFile = join(dir, 'pass');
      await fn((args, input, pass = PASS) => {
        writeFileSync(passFile, pass + '\n', { mode: 0o600 });
        const file = join(dir, 'in.gpg');
        writeFileSync(file, input);
        return spawnSync('gpg', ['--homedir', home, '--batch', '--passphrase-file', passFile, ...args, file], { maxBuffer: 64 << 20 });
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };
}

function assertGpgOpens(r: ReturnType<typeof spawnSync>, plain: Buffer, what: string): void {
  assert.equal(r.status, 0, `${what}: ${r.stderr}`);
  assert.equal(Buffer.compare(r.stdout as Buffer, plain), 0, `${what}: gpg's output differs from the plaintext`);
}

test('real gpg --decrypt opens empty, 1-byte, small and 10 MiB messages (default S2K count: 65011712)', withGpg(async (gpg) => {
  for (const size of [0, 1, 1000, 10 << 20]) {
    const plain = randomBytes(size);
    const r = gpg(['--decrypt'], await encrypt(plain, PASS, {}));
    assertGpgOpens(r, plain, `${size} bytes`);
    assert.match(String(r.stderr), /AES256\.CFB encrypted data/);
    assert.doesNotMatch(String(r.stderr), /not integrity protected|WARNING/);
  }
}));

test('gpg --list-packets shows SKESK v4 (AES-256, iterated+salted SHA-256), SEIPD with MDC and a binary literal', withGpg(async (gpg) => {
  const r = gpg(['--list-packets'], await encrypt(randomBytes(200_000), PASS, {}));
  assert.equal(r.status, 0, String(r.stderr));
  const out = String(r.stdout);
  assert.match(out, /symkey enc packet: version 4, cipher 9, aead 0,s2k 3, hash 8/);
  assert.match(out, /count 65011712 \(255\)/);
  assert.match(out, /tag=18 .*partial/);
  assert.match(out, /mdc_method: 2/);
  assert.match(out, /literal data packet:\s*\n\s*mode b/);
}));

test('sizes around the partial-length chunk edges open in gpg (512-byte and 64 KiB chunks)', withGpg(async (gpg) => {
  // Literal body = 6 header bytes + data; the SEIPD body adds 1 + 18 + literal framing + 22.
  const small = [...range(480, 540), ...range(1000, 1040), 1530, 1536, 2048 - 6, 2048 + 100];
  for (const size of small) {
    const plain = randomBytes(size);
    assertGpgOpens(gpg(['--decrypt'], await encrypt(plain, PASS, { ...FAST, chunkBits: 9 })), plain, `${size} bytes, 512-byte chunks`);
  }
  // Final pieces of 191/192 and 8383/8384 bytes: the 1-, 2- and 5-octet length encodings.
  const big = [185, 186, 187, 8377, 8378, 8379, 65_530, 65_531, 65_536, 65_537, 2 * 65_536 - 6, 2 * 65_536 - 5, 3 * 65_536 + 8383];
  for (const size of big) {
    const plain = randomBytes(size);
    assertGpgOpens(gpg(['--decrypt'], await encrypt(plain)), plain, `${size} bytes, 64 KiB chunks`);
  }
}));

test('a wrong passphrase fails in gpg and writes no plaintext', withGpg(async (gpg) => {
  const r = gpg(['--decrypt'], await encrypt(randomBytes(5000)), 'not-the-passphrase');
  assert.notEqual(r.status, 0);
  assert.equal((r.stdout as Buffer).length, 0);
  assert.match(String(r.stderr), /decryption failed|Bad session key/i);
}));

test('our verify-path decryptor opens it, and tells a wrong passphrase', async () => {
  for (const size of [0, 1, 511, 65_536 + 3, 3 << 20]) {
    const plain = randomBytes(size);
    const enc = await encrypt(plain);
    const info: DecryptInfo = {};
    const out = await collect(decryptOpenPgp(Readable.from([enc]), async () => PASS, info));
    assert.equal(Buffer.compare(out, plain), 0, `${size} bytes`);
    assert.equal(info.cipher, 'AES256');
    assert.equal(info.compression, 'none');
  }
  const enc = await encrypt(randomBytes(1000));
  await assert.rejects(collect(decryptOpenPgp(Readable.from([enc]), async () => 'wrong-passphrase!', {})), WrongPassphraseError);
});

test('OpenPGP.js opens it', async () => {
  for (const size of [0, 1, 70_000, 1 << 20]) {
    const plain = randomBytes(size);
    const out = await collect(await decryptStream(Readable.from([await encrypt(plain)]), PASS));
    assert.equal(Buffer.compare(out, plain), 0, `${size} bytes`);
  }
});

test('ciphertext streams out before the input ends, and a full output buffer pushes back', async () => {
  const enc = createEncryptor(PASS, { ...FAST, highWaterMark: 64 * 1024 });
  let seen = 0;
  const out: Buffer[] = [];
  enc.on('data', (c: Buffer) => {
    seen += c.length;
    out.push(c);
  });
  for (let i = 0; i < 64; i++) enc.write(randomBytes(64 * 1024));
  await new Promise((r) => setImmediate(r));
  assert.ok(seen >= 63 * 64 * 1024, `only ${seen} bytes out before end()`);

  // Nobody reading: writes start returning false once the buffers fill.
  const idle = createEncryptor(PASS, { ...FAST, highWaterMark: 64 * 1024 });
  let accepted = 0;
  while (idle.write(Buffer.alloc(16 * 1024)) && accepted < 1000) accepted++;
  assert.ok(accepted < 64, `accepted ${accepted} chunks without backpressure`);
  idle.destroy();
  enc.end();
  await new Promise((r) => enc.on('end', r));
  assert.ok(Buffer.concat(out).length > 4 << 20);
});

function range(from: number, to: number): number[] {
  return Array.from({ length: to - from }, (_, i) => from + i);
}

test('with the MDC hashed on a second thread, gpg opens the same sizes, also when the ring wraps many times', withGpg(async (gpg) => {
  for (const size of [0, 1, 70_000, 5 * 1024 * 1024 + 7]) {
    const plain = randomBytes(size);
    assertGpgOpens(gpg(['--decrypt'], await encrypt(plain, PASS, { ...FAST, mdcThread: true })), plain, `${size} bytes, MDC thread`);
  }
  // A damaged byte must still fail the MDC check computed on the thread.
  const bad = await encrypt(randomBytes(300_000), PASS, { ...FAST, mdcThread: true });
  bad[bad.length - 30_000] ^= 1;
  assert.notEqual(gpg(['--decrypt'], bad).status, 0);
}));
