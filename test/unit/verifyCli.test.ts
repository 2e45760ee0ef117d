/**
 * `ucp-backup verify FILE`, run as cron would: exit 0 VALID, 1 INVALID (the report says
 * why), 2 usage or I/O trouble; the passphrase comes from a file or stdin, never argv.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli } from '../helpers/cli';
import { gpgEncrypt, makeTar, passFile, PASSPHRASE, tempDir } from '../helpers/archives';

const dir = tempDir();
after(() => rmSync(dir, { recursive: true, force: true }));
const pass = passFile(dir);
const good = gpgEncrypt(dir, makeTar(dir));

test('a good gpg backup: exit 0, VALID, the spec checks listed', async () => {
  const r = await runCli(['verify', good, '--passphrase-file', pass]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /: VALID\n/);
  assert.match(r.stdout, /ok {3}27 or more entries: 28 entries/);
  assert.match(r.stdout, /ok {3}\.\/ucp-controller-server-certs\/key\.pem present/);
  assert.match(r.stdout, /OpenPGP AES256/);
});

test('--json prints the whole report; --passphrase-file - reads stdin; --sha256 hashes the file', async () => {
  const r = await runCli(['verify', good, '--passphrase-file', '-', '--json', '--sha256'], { stdin: `${PASSPHRASE}\n` });
  assert.equal(r.code, 0, r.stderr);
  const report = JSON.parse(r.stdout);
  assert.equal(report.verdict, 'VALID');
  assert.equal(report.entryCount, 28);
  assert.equal(report.entries.length, 28);
  const { createHash } = await import('node:crypto');
  assert.equal(report.sha256, createHash('sha256').update(readFileSync(good)).digest('hex'));
  assert.match(report.entries[0].sha256, /^[0-9a-f]{64}$/);
});

test('INVALID (26 entries): exit 1 and the failing check says why', async () => {
  const r = await runCli(['verify', gpgEncrypt(dir, makeTar(dir, { entries: 26 })), '--passphrase-file', pass]);
  assert.equal(r.code, 1);
  assert.match(r.stdout, /: INVALID\n/);
  assert.match(r.stdout, /FAIL 27 or more entries: 26 entries/);
});

test('--cluster-version: the next minor cannot restore it (exit 1)', async () => {
  const ok = await runCli(['verify', good, '--passphrase-file', pass, '--cluster-version', '3.2.7']);
  assert.equal(ok.code, 0, ok.stdout);
  const next = await runCli(['verify', good, '--passphrase-file', pass, '--cluster-version', '3.3.0']);
  assert.equal(next.code, 1);
  assert.match(next.stdout, /FAIL Restorable on UCP 3\.3\.0/);
});

test('wrong or missing passphrase, missing file, bad usage: exit 2 with a hint; a zip: exit 1 "not a UCP backup"', async () => {
  const wrong = join(dir, 'wrong');
  writeFileSync(wrong, 'not-the-passphrase\n');
  const w = await runCli(['verify', good, '--passphrase-file', wrong]);
  assert.equal(w.code, 2);
  assert.match(w.stderr, /passphrase does not decrypt this backup.*Check the passphrase/);
  const none = await runCli(['verify', good]);
  assert.equal(none.code, 2);
  assert.match(none.stderr, /encrypted and no passphrase was given.*--passphrase-file/);
  const missing = await runCli(['verify', join(dir, 'nope.tar')]);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /Cannot read .*nope\.tar/);
  const usage = await runCli(['verify']);
  assert.equal(usage.code, 2);
  assert.match(usage.stderr, /Give exactly one backup FILE/);
  const zip = join(dir, 'x.zip');
  writeFileSync(zip, Buffer.concat([Buffer.from('PK\x03\x04', 'latin1'), Buffer.alloc(600, 1)]));
  const z = await runCli(['verify', zip]);
  assert.equal(z.code, 1);
  assert.match(z.stderr, /is not a UCP backup: it is a zip file/);
});
