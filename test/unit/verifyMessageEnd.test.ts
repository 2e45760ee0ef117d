/**
 * The OpenPGP message and nothing else: a file with data after the end of the message (a
 * stray byte, a newline a transfer added, a second message appended) is INVALID, as GnuPG
 * 2.2 fails it ("encrypted message has been manipulated"); data without integrity
 * protection (`gpg --rfc2440`) is INVALID "not integrity protected", never a wrong
 * passphrase. Every case is made by real gpg, and gpg's own answer sits next to ours.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, copyFileSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { verifyBackup } from '../../src/core/verify/verify';
import { gpgEncrypt, makeTar, PASSPHRASE, tempDir } from '../helpers/archives';
import { gpgDecrypt } from '../helpers/gpgDecrypt';

const dir = tempDir();
after(() => rmSync(dir, { recursive: true, force: true }));
const tar = makeTar(dir);

let n = 0;
/** A copy of `file` with `extra` (text or bytes) appended. */
function appended(file: string, extra: string | Buffer): string {
  const out = `${file}.${n++}.appended`;
  copyFileSync(file, out);
  appendFileSync(out, extra);
  return out;
}
function joined(a: string, b: string): string {
  const out = `${a}.${n++}.joined`;
  writeFileSync(out, Buffer.concat([readFileSync(a), readFileSync(b)]));
  return out;
}

const TRAILING = /data after the end of the OpenPGP message \(\d+ bytes?/;
// gpg's words depend on what the appended bytes happen to parse as; its exit status is the verdict.
const GPG_TRAILING = /manipulated|invalid packet|multiple plaintexts|uncompressing failed/;

interface Case {
  what: string;
  file: () => string;
  passphrase?: string;
  /** gpg's exit status and what it says. */
  gpg: { ok: boolean; says?: RegExp };
  ours: { verdict: 'VALID' | 'INVALID'; reason?: RegExp };
}

const plain = gpgEncrypt(dir, tar, ['--compress-algo', 'none']);
const zlib = gpgEncrypt(dir, tar, ['--compress-algo', 'zlib']);
const armored = gpgEncrypt(dir, tar, ['--armor']);
// CAST5 and bzip2 go through OpenPGP.js (openpgpDecrypt.ts leaves them out): the same rule holds there.
const cast5 = gpgEncrypt(dir, tar, ['--cipher-algo', 'CAST5']);
const bzip2 = gpgEncrypt(dir, tar, ['--compress-algo', 'bzip2']);
const NOT_PROTECTED = /not integrity protected/;

const cases: Case[] = [
  { what: 'gpg --symmetric, as written', file: () => zlib, gpg: { ok: true }, ours: { verdict: 'VALID' } },
  { what: 'one byte appended (zlib)', file: () => appended(zlib, 'x'), gpg: { ok: false, says: /manipulated/ }, ours: { verdict: 'INVALID', reason: /\(1 byte:/ } },
  { what: 'a newline appended (no compression)', file: () => appended(plain, '\n'), gpg: { ok: false, says: /invalid packet \(ctb=0a\)/ }, ours: { verdict: 'INVALID', reason: TRAILING } },
  { what: '4 KiB of zeros appended (no compression)', file: () => appended(plain, Buffer.alloc(4096)), gpg: { ok: false, says: /invalid packet \(ctb=00\)/ }, ours: { verdict: 'INVALID', reason: /\(4096 bytes/ } },
  { what: 'a second message appended (no compression)', file: () => joined(plain, plain), gpg: { ok: false, says: GPG_TRAILING }, ours: { verdict: 'INVALID', reason: TRAILING } },
  { what: 'a second message appended (zlib)', file: () => joined(zlib, zlib), gpg: { ok: false, says: GPG_TRAILING }, ours: { verdict: 'INVALID', reason: TRAILING } },
  { what: 'CAST5, one byte appended (OpenPGP.js path)', file: () => appended(cast5, 'x'), gpg: { ok: false, says: GPG_TRAILING }, ours: { verdict: 'INVALID', reason: TRAILING } },
  { what: 'CAST5, a second message appended', file: () => joined(cast5, cast5), gpg: { ok: false, says: GPG_TRAILING }, ours: { verdict: 'INVALID', reason: TRAILING } },
  { what: 'bzip2, another message appended (OpenPGP.js path)', file: () => joined(bzip2, plain), gpg: { ok: false, says: GPG_TRAILING }, ours: { verdict: 'INVALID', reason: TRAILING } },
  { what: 'armored, text after the END line', file: () => appended(armored, 'Sent from my backup host\n'), gpg: { ok: true }, ours: { verdict: 'VALID' } },
  { what: 'armored, a second armored message appended', file: () => joined(armored, armored), gpg: { ok: false, says: GPG_TRAILING }, ours: { verdict: 'INVALID', reason: TRAILING } },
  { what: 'gpg --rfc2440 (3DES, no MDC)', file: () => gpgEncrypt(dir, tar, ['--rfc2440']), gpg: { ok: false, says: /not integrity protected.*decryption forced to fail/ }, ours: { verdict: 'INVALID', reason: NOT_PROTECTED } },
  { what: 'gpg --rfc2440 --cipher-algo AES256 --armor', file: () => gpgEncrypt(dir, tar, ['--rfc2440', '--cipher-algo', 'AES256', '--armor']), gpg: { ok: false, says: /not integrity protected/ }, ours: { verdict: 'INVALID', reason: NOT_PROTECTED } },
  { what: 'gpg --rfc2440 --compress-algo none, wrong passphrase given', file: () => gpgEncrypt(dir, tar, ['--rfc2440', '--compress-algo', 'none']), passphrase: 'not-the-passphrase', gpg: { ok: false, says: /Bad session key/ }, ours: { verdict: 'INVALID', reason: NOT_PROTECTED } },
];

test('data after the message and data without integrity protection: INVALID, as gpg fails them (table)', async (t) => {
  const table: string[] = [];
  for (const c of cases) {
    const file = c.file();
    const passphrase = c.passphrase ?? PASSPHRASE;
    const gpg = gpgDecrypt(dir, file, passphrase);
    const r = await verifyBackup({ kind: 'file', path: file }, { passphrase });
    const integrity = r.checks.find((x) => x.id === 'integrity')!;
    table.push(`${c.what.padEnd(58)} gpg: exit ${gpg.status} ${gpg.said.slice(0, 90).padEnd(90)} ours: ${r.verdict} ${integrity.pass ? '' : integrity.reason.slice(0, 60)}`);
    assert.equal(gpg.status === 0, c.gpg.ok, `${c.what}: gpg exit ${gpg.status}: ${gpg.said}`);
    if (c.gpg.says) assert.match(gpg.said, c.gpg.says, c.what);
    assert.equal(r.verdict, c.ours.verdict, `${c.what}: ${JSON.stringify(r.checks.filter((x) => !x.pass))}`);
    if (c.ours.reason) assert.match(integrity.reason, c.ours.reason, c.what);
    else assert.equal(integrity.pass, true, c.what);
  }
  t.diagnostic('\n' + table.join('\n'));
});

test('a message with trailing data still lists what it holds (the tar inside is complete)', async () => {
  const r = await verifyBackup({ kind: 'file', path: joined(plain, plain) }, { passphrase: PASSPHRASE });
  assert.equal(r.entryCount, 28);
  assert.deepEqual(r.checks.filter((c) => !c.pass).map((c) => c.id), ['integrity']);
});
