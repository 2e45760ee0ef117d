/**
 * Comparing two backups: what the newer one added, removed and changed (by size or by
 * SHA-256 when the size is the same). Each backup keeps its dumps under its own
 * ./ucp-backup/<epoch-ms>/ folder; those are matched, not reported as added/removed.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { verifyBackup } from '../../src/core/verify/verify';
import { diffBackups } from '../../src/core/verify/diff';
import { runCli } from '../helpers/cli';
import { engineEncrypt, gpgEncrypt, makeTar, passFile, PASSPHRASE, tempDir } from '../helpers/archives';

const dir = tempDir();
after(() => rmSync(dir, { recursive: true, force: true }));

const a = makeTar(dir, { stamp: '1700000000000', extra: { 'ucp-kv/same.txt': 'same', 'ucp-kv/gone.txt': 'old', 'ucp-kv/grows.txt': 'abc', 'ucp-kv/edited.txt': 'v1' } });
const b = makeTar(dir, { stamp: '1700000099999', extra: { 'ucp-kv/same.txt': 'same', 'ucp-kv/new.txt': 'new', 'ucp-kv/grows.txt': 'abcdef', 'ucp-kv/edited.txt': 'v2' } });

test('added, removed, changed by size and by hash; the per-backup folder is matched', async () => {
  const opts = { passphrase: PASSPHRASE, hashEntries: true, maxEntriesInReport: Infinity };
  const ra = await verifyBackup({ kind: 'file', path: gpgEncrypt(dir, a) }, opts);
  const rb = await verifyBackup({ kind: 'file', path: await engineEncrypt(b) }, opts);
  const d = diffBackups(ra, rb);
  assert.deepEqual(d.added.map((e) => e.name), ['./ucp-kv/new.txt']);
  assert.deepEqual(d.removed.map((e) => e.name), ['./ucp-kv/gone.txt']);
  const changed = Object.fromEntries(d.changed.map((c) => [c.name, c.what]));
  assert.deepEqual(changed['./ucp-kv/grows.txt'], ['size']);
  assert.deepEqual(changed['./ucp-kv/edited.txt'], ['sha256']);
  assert.equal(Object.keys(changed).length, 2, JSON.stringify(changed));
  assert.ok(!d.added.some((e) => e.name.includes('1700000099999')), 'the per-backup folder was reported as added');
  assert.equal(d.partial, false);
  assert.ok(d.same >= 28);
});

test('`ucp-backup diff A B`: exit 1 with +/-/~ lines when different, 0 for the same content', async () => {
  const pass = passFile(dir);
  const encA = gpgEncrypt(dir, a);
  const r = await runCli(['diff', encA, b, '--passphrase-file', pass]);
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stdout, /^- \.\/ucp-kv\/gone\.txt/m);
  assert.match(r.stdout, /^\+ \.\/ucp-kv\/new\.txt/m);
  assert.match(r.stdout, /^~ \.\/ucp-kv\/edited\.txt \(sha256: 2 -> 2 bytes\)/m);
  assert.match(r.stdout, /^~ \.\/ucp-kv\/grows\.txt \(size: 3 -> 6 bytes\)/m);
  assert.match(r.stdout, /1 added, 1 removed, 2 changed/);
  const same = await runCli(['diff', encA, a, '--passphrase-file', pass, '--json']);
  assert.equal(same.code, 0, same.stderr);
  const json = JSON.parse(same.stdout);
  assert.equal(json.changed.length + json.added.length + json.removed.length, 0);
});
