/**
 * The pieces of verify's fast path that the small archives of verify.test.ts do not reach:
 * the SHA-1 thread (used for inputs ≥ 64 MiB when a core is free), the WebAssembly XOR and
 * the read-ahead file reader, each checked against the plain way of doing the same.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { xorInto } from '../../src/core/archive/cfb';
import { CorruptArchiveError, IntegrityError } from '../../src/core/archive/errors';
import { decryptOpenPgp } from '../../src/core/archive/openpgpDecrypt';
import { ParallelSha1 } from '../../src/core/archive/parallelSha1';
import { readAhead } from '../../src/core/archive/readAhead';
import { verifyBackup } from '../../src/core/verify/verify';
import { gpgEncrypt, makeTar, PASSPHRASE, tempDir } from '../helpers/archives';

const dir = tempDir();
after(() => rmSync(dir, { recursive: true, force: true }));

test('the SHA-1 thread hashes like createHash, across many ring wrap-arounds and odd chunk sizes', async () => {
  const data = randomBytes(11 * 1024 * 1024 + 13);
  const h = new ParallelSha1();
  for (let at = 0, i = 0; at < data.length; i++) {
    const n = [1, 4095, 65536 + 3, 3 * 1024 * 1024 + 1, 700_001][i % 5];
    await h.update(data.subarray(at, at + n));
    at += n;
  }
  assert.deepEqual(await h.digest(), createHash('sha1').update(data).digest());
  const abandoned = new ParallelSha1();
  await abandoned.update(data.subarray(0, 100_000));
  abandoned.close(); // must not keep the process alive (the test runner would hang)
});

test('WebAssembly XOR equals a byte loop for every length and alignment', () => {
  for (const n of [0, 15, 16, 255, 256, 257, 4096 + 9, 1024 * 1024 + 16, 2 * 1024 * 1024 + 5]) {
    for (const off of [0, 1, 3]) {
      const a = randomBytes(n + off).subarray(off);
      const b = randomBytes(n + 4).subarray(4 - off, 4 - off + n);
      const expected = Buffer.from(a.map((x, i) => x ^ b[i]));
      xorInto(a, b);
      assert.ok(a.equals(expected), `n=${n} offset=${off}`);
    }
  }
});

test('read-ahead returns the file exactly, also when its size is a multiple of the chunk', async () => {
  for (const size of [0, 1, 65536, 3 * 65536, 3 * 65536 + 7]) {
    const f = `${dir}/ra-${size}`;
    const content = randomBytes(size);
    writeFileSync(f, content);
    const parts: Buffer[] = [];
    for await (const b of readAhead(f, 65536)) parts.push(Buffer.from(b)); // its buffers are reused
    assert.ok(Buffer.concat(parts).equals(content), `size ${size}`);
  }
});

test('decryption with the SHA-1 thread: same plaintext, and damage or truncation still fails', async () => {
  const tar = makeTar(dir, { extra: { 'blob.bin': randomBytes(6 << 20) } });
  const file = gpgEncrypt(dir, tar, ['--compress-algo', 'none']);
  const run = async (path: string) => {
    const out: Buffer[] = [];
    const file = readAhead(path, 256 * 1024);
    try {
      for await (const b of decryptOpenPgp(file, async () => PASSPHRASE, {}, true)) out.push(Buffer.from(b));
    } finally {
      await file.return(undefined); // closes the file when decryption stopped early
    }
    return Buffer.concat(out);
  };
  assert.ok((await run(file)).equals(readFileSync(tar)));
  const bytes = readFileSync(file);
  bytes[Math.floor(bytes.length / 2)] ^= 1;
  writeFileSync(`${file}.flipped`, bytes);
  await assert.rejects(run(`${file}.flipped`), IntegrityError);
  writeFileSync(`${file}.cut`, readFileSync(file).subarray(0, bytes.length - 10));
  await assert.rejects(run(`${file}.cut`), CorruptArchiveError);
});

test('a plain tar over many reused read buffers: every entry hash matches the manifest', async () => {
  const extra = Object.fromEntries([300_001, 1 << 20, 3 << 20, 5000].map((n, i) => [`ucp-backup/blob-${i}.bin`, randomBytes(n)]));
  const r = await verifyBackup({ kind: 'file', path: makeTar(dir, { manifest: true, extra }) }, { hashEntries: true });
  assert.equal(r.verdict, 'VALID', JSON.stringify(r.checks));
  assert.match(r.checks.find((c) => c.id === 'manifest')!.reason, /all \d+ entries match their size and SHA-256/);
});

test('the OpenPGP.js fallback (bzip2) over many read buffers: VALID, every byte intact', async () => {
  const tar = makeTar(dir, { manifest: true, extra: { 'ucp-backup/noise.bin': randomBytes(5 << 20) } });
  const r = await verifyBackup({ kind: 'file', path: gpgEncrypt(dir, tar, ['--compress-algo', 'bzip2']) }, { passphrase: PASSPHRASE, hashEntries: true });
  assert.equal(r.verdict, 'VALID', JSON.stringify(r.checks.filter((c) => !c.pass)));
});
