/**
 * "Verify a UCP backup" on archives made the way admins make them: real GNU tar, real
 * `gpg --symmetric` with its defaults and options, our engine's encryptStream; and the
 * damaged ones an admin meets: cut short, one flipped byte, wrong passphrase, too few
 * entries, no key.pem, not a backup at all.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { verifyBackup } from '../../src/core/verify/verify';
import type { VerifyReport } from '../../src/core/verify/report';
import { NotABackupError, PassphraseRequiredError, WrongPassphraseError } from '../../src/core/archive/errors';
import { bigTar as streamedTar, engineEncrypt, gpgEncrypt, gpgEncryptStreamed, makeTar, makeZip, PASSPHRASE, tempDir } from '../helpers/archives';

const dir = tempDir();
after(() => rmSync(dir, { recursive: true, force: true }));

const verify = (path: string, passphrase: string | null = PASSPHRASE, extra: Parameters<typeof verifyBackup>[1] = {}) =>
  verifyBackup({ kind: 'file', path }, { passphrase: passphrase ?? undefined, ...extra });
const failed = (r: VerifyReport) => r.checks.filter((c) => !c.pass).map((c) => c.id);
const check = (r: VerifyReport, id: string) => r.checks.find((c) => c.id === id);
/** What GNU tar lists, the reference for our listing. */
const gnuList = (tar: string) => spawnSync('tar', ['--list', '-f', tar]).stdout.toString().split('\n').filter(Boolean);

const tar = makeTar(dir);
// A bigger payload so that damage lands in the middle of a long stream, not in one read.
const bigTar = makeTar(dir, { extra: { 'ucp-backup/1631549510183/blob.bin': randomBytes(3 << 20) } });

test('a plain GNU tar of the reference layout is VALID and lists what `tar --list` lists', async () => {
  const r = await verify(tar, null);
  assert.equal(r.verdict, 'VALID', JSON.stringify(r.checks));
  assert.equal(r.encrypted, false);
  assert.equal(r.entryCount, 28);
  assert.deepEqual(r.entries.map((e) => e.name.replace(/\/$/, '')), gnuList(tar).map((n) => n.replace(/\/$/, '')));
  assert.equal(r.ucpVersion, '3.2.4');
  const dirEntry = r.entries.find((e) => e.name === './ucp-controller-server-certs/');
  assert.equal(dirEntry?.type, 'directory');
  const empty = r.entries.find((e) => e.name.endsWith('client_ca.pem'));
  assert.equal(empty?.size, 0);
  assert.match(empty?.sha256 ?? '', /^e3b0c442/); // SHA-256 of nothing: plain tars are hashed per entry
});

for (const [what, args, cipher, compression] of [
  ['gpg --symmetric defaults', [], 'AES256', /^(ZIP|ZLIB)$/],
  ['gpg --compress-algo none', ['--compress-algo', 'none'], 'AES256', /^none$/],
  ['gpg --compress-algo zlib', ['--compress-algo', 'zlib'], 'AES256', /^ZLIB$/],
  ['gpg --cipher-algo AES128', ['--cipher-algo', 'AES128'], 'AES128', /./],
  ['gpg --armor', ['--armor'], 'AES256', /./],
  ['gpg --compress-algo bzip2', ['--compress-algo', 'bzip2'], 'AES256', /^BZIP2$/],
  ['gpg --cipher-algo CAST5 (not in OpenSSL: OpenPGP.js)', ['--cipher-algo', 'CAST5'], 'CAST5', /^(ZIP|ZLIB)?$/],
  ['gpg --cipher-algo CAMELLIA256', ['--cipher-algo', 'CAMELLIA256'], 'CAMELLIA256', /./],
  ['gpg --s2k-mode 1 --s2k-digest-algo SHA256', ['--s2k-mode', '1', '--s2k-digest-algo', 'SHA256'], 'AES256', /./],
] as const) {
  test(`an archive made by ${what} is VALID`, async () => {
    const r = await verify(gpgEncrypt(dir, tar, [...args]));
    assert.equal(r.verdict, 'VALID', JSON.stringify(r.checks));
    assert.equal(r.encrypted, true);
    assert.equal(r.cipher, cipher);
    assert.match(r.compression ?? '', compression);
    assert.equal(r.entryCount, 28);
    assert.match(check(r, 'integrity')!.reason, /modification detection code matches/);
  });
}

test("our engine's encryptStream output (AES256, uncompressed) is VALID", async () => {
  const r = await verify(await engineEncrypt(tar));
  assert.equal(r.verdict, 'VALID', JSON.stringify(r.checks));
  assert.equal(r.cipher, 'AES256');
  assert.equal(r.compression, 'none');
});

test('pax and GNU long names, ustar prefixes: listed in full, as GNU tar lists them', async () => {
  const long = `ucp-controller-server-certs/${'d'.repeat(120)}/${'f'.repeat(140)}.pem`;
  const prefixed = `ucp-cluster-root-ca/${'p'.repeat(90)}/cert-${'q'.repeat(40)}.pem`;
  for (const format of ['pax', 'gnu'] as const) {
    const t = makeTar(dir, { format, extra: { [long]: 'x', 'ucp-kv/ünïcødé.txt': 'u' } });
    const r = await verify(gpgEncrypt(dir, t, ['--compress-algo', 'none']));
    assert.equal(r.verdict, 'VALID', `${format}: ${JSON.stringify(r.checks)}`);
    assert.ok(r.entries.some((e) => e.name === `./${long}`), `${format}: long name missing`);
    assert.ok(r.entries.some((e) => e.name === './ucp-kv/ünïcødé.txt'));
    assert.deepEqual(r.entries.map((e) => e.name.replace(/\/$/, '')), gnuList(t).map((n) => n.replace(/\/$/, '')));
  }
  const ustar = makeTar(dir, { format: 'ustar', extra: { [prefixed]: 'y' } });
  const r = await verify(ustar, null);
  assert.ok(r.entries.some((e) => e.name === `./${prefixed}`), 'ustar prefix+name not joined');
});

test('an archive cut short at any point is INVALID, never VALID and never a crash', async () => {
  for (const [what, file] of [
    ['gpg', gpgEncrypt(dir, bigTar, ['--compress-algo', 'none'])],
    ['gpg zlib', gpgEncrypt(dir, bigTar)],
    ['engine', await engineEncrypt(bigTar)],
    ['armor', gpgEncrypt(dir, bigTar, ['--armor', '--compress-algo', 'none'])],
    ['plain', bigTar],
  ] as const) {
    const whole = readFileSync(file);
    for (const at of [100, 4096, Math.floor(whole.length * 0.5), whole.length - 1000, whole.length - 1]) {
      const cut = join(dir, `cut-${at}`);
      writeFileSync(cut, whole.subarray(0, at));
      const r = await verify(cut);
      assert.equal(r.verdict, 'INVALID', `${what} cut at ${at}/${whole.length}`);
      const why = what === 'plain' ? check(r, 'tar')! : check(r, 'integrity')!;
      assert.equal(why.pass, false, `${what} cut at ${at}: ${JSON.stringify(r.checks)}`);
      assert.match(why.reason, /truncated|ends early|incomplete/i, `${what} cut at ${at}`);
    }
  }
});

test('one flipped ciphertext byte turns the result INVALID through the integrity check', async () => {
  for (const file of [gpgEncrypt(dir, bigTar, ['--compress-algo', 'none']), await engineEncrypt(bigTar), gpgEncrypt(dir, bigTar, ['--compress-algo', 'bzip2'])]) {
    const b = readFileSync(file);
    b[Math.floor(b.length * 0.6)] ^= 0x01;
    const flipped = `${file}.flipped`;
    writeFileSync(flipped, b);
    const r = await verify(flipped);
    assert.equal(r.verdict, 'INVALID');
    assert.equal(check(r, 'integrity')?.pass, false);
    assert.match(check(r, 'integrity')!.reason, /Modification detected|integrity|damaged/i);
  }
});

test('a 40 MiB archive streamed through many chunks: VALID whole, INVALID with one flipped byte or cut short', async () => {
  const file = join(dir, 'big40.tar.gpg');
  await gpgEncryptStreamed(dir, streamedTar(40 << 20), file);
  const whole = await verify(file);
  assert.equal(whole.verdict, 'VALID', JSON.stringify(whole.checks));
  assert.equal(whole.entryCount, 29);
  const b = readFileSync(file);
  b[Math.floor(b.length * 0.7)] ^= 0x80;
  writeFileSync(`${file}.flipped`, b);
  const flipped = await verify(`${file}.flipped`);
  assert.equal(flipped.verdict, 'INVALID');
  assert.match(check(flipped, 'integrity')!.reason, /Modification detected/);
  writeFileSync(`${file}.cut`, b.subarray(0, b.length - 5000));
  const cut = await verify(`${file}.cut`);
  assert.equal(cut.verdict, 'INVALID');
  assert.match(check(cut, 'integrity')!.reason, /truncated|ends early/);
});

test('a wrong passphrase is a WrongPassphraseError, not "corrupt archive"', async () => {
  const files = [gpgEncrypt(dir, tar), gpgEncrypt(dir, tar, ['--armor']), gpgEncrypt(dir, tar, ['--compress-algo', 'bzip2']), gpgEncrypt(dir, tar, ['--cipher-algo', 'CAST5']), await engineEncrypt(tar)];
  for (const file of files) {
    await assert.rejects(verify(file, 'not-the-passphrase'), (err: Error) => {
      assert.ok(err instanceof WrongPassphraseError, `${file}: ${err.constructor.name}: ${err.message}`);
      assert.match((err as WrongPassphraseError).hint ?? '', /passphrase/);
      return true;
    });
  }
});

test('OpenPGP.js path (CAST5): a wrong passphrase is a WrongPassphraseError whatever garbage it decrypts to', async () => {
  // No quick check there: with some salts the wrong key yields garbage that OpenPGP.js parses
  // as a literal packet (it failed 1 run in ~6 before verify.ts treated "no tar header" so).
  for (let i = 0; i < 24; i++) {
    // A low S2K count: the salts are what varies; gpg's default count would make each run seconds.
    await assert.rejects(verify(gpgEncrypt(dir, tar, ['--cipher-algo', 'CAST5', '--s2k-count', '65536']), 'not-the-passphrase'), WrongPassphraseError);
  }
});

test('an encrypted archive without a passphrase asks for one; a plain one never asks', async () => {
  await assert.rejects(verify(gpgEncrypt(dir, tar), null), PassphraseRequiredError);
  let asked = 0;
  const r = await verifyBackup({ kind: 'file', path: tar }, { passphrase: async () => (asked++, PASSPHRASE) });
  assert.equal(r.verdict, 'VALID');
  assert.equal(asked, 0);
});

test('26 entries is INVALID (the spec: 27 or more), 27 is VALID; directories count', async () => {
  const r26 = await verify(gpgEncrypt(dir, makeTar(dir, { entries: 26 })));
  assert.equal(r26.entryCount, 26);
  assert.equal(r26.verdict, 'INVALID');
  assert.deepEqual(failed(r26), ['entries']);
  assert.match(check(r26, 'entries')!.reason, /26 entries/);
  const r27 = await verify(gpgEncrypt(dir, makeTar(dir, { entries: 27 })));
  assert.equal(r27.entryCount, 27);
  assert.equal(r27.verdict, 'VALID', JSON.stringify(r27.checks));
});

test('no ./ucp-controller-server-certs/key.pem is INVALID', async () => {
  const r = await verify(gpgEncrypt(dir, makeTar(dir, { withoutKeyPem: true, extra: { 'ucp-kv/extra.txt': 'keeps the count at 28' } })));
  assert.equal(r.verdict, 'INVALID');
  assert.deepEqual(failed(r), ['keyPem']);
  assert.match(check(r, 'keyPem')!.reason, /missing/);
});

test('a zip file, an empty file, random bytes: a clear "not a UCP backup"', async () => {
  const zip = join(dir, 'x.zip');
  makeZip(zip, 'a.txt', Buffer.from('hi'));
  assert.equal(spawnSync('unzip', ['-tq', zip]).status ?? 0, 0); // a well-formed zip (when unzip is installed)
  const empty = join(dir, 'empty.tar');
  writeFileSync(empty, '');
  const noise = join(dir, 'noise.tar');
  writeFileSync(noise, Buffer.concat([Buffer.from([0x00, 0x11]), randomBytes(4096)]));
  for (const [file, what] of [[zip, /a zip file/], [empty, /an empty file/], [noise, /neither OpenPGP nor tar/]] as const) {
    await assert.rejects(verify(file), (err: Error) => {
      assert.ok(err instanceof NotABackupError, `${file}: ${err.constructor.name}`);
      assert.match(err.message, /is not a UCP backup/);
      assert.match(err.message, what);
      return true;
    });
  }
});

test('restorable on the same major.minor, not on the next minor (the spec: N is not for N+1)', async () => {
  const file = gpgEncrypt(dir, tar);
  const same = await verify(file, PASSPHRASE, { clusterVersion: '3.2.9' });
  assert.equal(same.verdict, 'VALID');
  assert.equal(check(same, 'restorable')?.pass, true);
  const next = await verify(file, PASSPHRASE, { clusterVersion: '3.3.0' });
  assert.equal(next.verdict, 'INVALID');
  assert.equal(check(next, 'restorable')?.pass, false);
  assert.match(check(next, 'restorable')!.reason, /3\.2\.4.*3\.3\.0/);
});

test("our engine's manifest: every entry checked by size and SHA-256; a wrong hash is INVALID", async () => {
  const good = await verify(makeTar(dir, { manifest: true }), null);
  assert.equal(good.verdict, 'VALID', JSON.stringify(good.checks));
  assert.match(check(good, 'manifest')!.reason, /all 28 entries match their size and SHA-256/);
  const bad = await verify(makeTar(dir, { manifest: 'tampered' }), null);
  assert.equal(bad.verdict, 'INVALID');
  assert.deepEqual(failed(bad), ['manifest']);
  assert.match(check(bad, 'manifest')!.reason, /key\.pem SHA-256 differs/);
  // Encrypted: the MDC covers the bytes; the manifest still checks names and sizes.
  const enc = await verify(await engineEncrypt(makeTar(dir, { manifest: true })));
  assert.equal(enc.verdict, 'VALID', JSON.stringify(enc.checks));
  assert.match(check(enc, 'manifest')!.reason, /size/);
});
