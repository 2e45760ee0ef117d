/**
 * A corpus made at test time by the real tools — gpg 2.2 with every cipher, compression, S2K
 * mode and armor it writes, GNU tar's and Python's tarfile formats — each case intact, cut
 * short and with a flipped byte. Verify must agree with the tools: VALID exactly when
 * `gpg --decrypt` exits 0, the tar check passing exactly when `tar --list` does. The table
 * of both answers is printed; the known gaps (cannotRead) are asserted as such.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { verifyBackup } from '../../src/core/verify/verify';
import type { VerifyReport } from '../../src/core/verify/report';
import { gpgEncrypt, PASSPHRASE, tempDir, writeTree } from '../helpers/archives';
import { gpgDecrypt } from '../helpers/gpgDecrypt';

const dir = tempDir();
after(() => rmSync(dir, { recursive: true, force: true }));
const root = join(dir, 'tree');
mkdirSync(root);
const names = writeTree(root);

/** Our answer: VALID, INVALID, or the error's class when verify refused to give a report. */
async function ours(file: string): Promise<{ verdict: string; why: string; report?: VerifyReport }> {
  try {
    const r = await verifyBackup({ kind: 'file', path: file }, { passphrase: PASSPHRASE });
    return { verdict: r.verdict, why: r.checks.filter((c) => !c.pass).map((c) => `${c.id}: ${c.reason}`).join('; ').slice(0, 70), report: r };
  } catch (err) {
    return { verdict: (err as Error).constructor.name, why: (err as Error).message.slice(0, 70) };
  }
}

/** The same file cut in half, and with one byte flipped in its middle. */
function damaged(file: string): [string, string][] {
  const b = readFileSync(file);
  const cut = `${file}.cut`;
  writeFileSync(cut, b.subarray(0, b.length >> 1));
  const flip = `${file}.flip`;
  const f = Buffer.from(b);
  f[f.length >> 1] ^= 0x01;
  writeFileSync(flip, f);
  return [['', file], [' (cut in half)', cut], [' (byte flipped)', flip]];
}

function row(what: string, tool: string, toolOk: boolean, o: { verdict: string; why: string }): string {
  return `${what.padEnd(52)} ${tool}: ${toolOk ? 'ok  ' : 'FAIL'}  ours: ${o.verdict.padEnd(8)} ${o.verdict === 'VALID' ? '' : o.why}`;
}

// A low S2K count keeps gpg and our key derivation quick; the count itself is tested elsewhere.
const FAST_S2K = ['--s2k-count', '65536'];
const CIPHERS = ['AES', 'AES192', 'AES256', 'CAMELLIA128', 'CAMELLIA192', 'CAMELLIA256', 'TWOFISH', '3DES', 'CAST5', 'BLOWFISH', 'IDEA'];
const COMPRESSIONS = ['none', 'zip', 'zlib', 'bzip2'];
const S2K_MODES = ['0', '1', '3'];

/** What neither our fast path nor OpenPGP.js 6 decrypts: IDEA (Camellia with bzip2 reads since bzip2 is ours, bzip2.ts). */
const cannotRead = (args: string[]) => args.includes('IDEA');

test('gpg corpus: every cipher, compression, S2K mode and armor, intact and damaged: VALID exactly when gpg --decrypt succeeds', async (t) => {
  const tar = join(dir, 'corpus.tar');
  assert.equal(spawnSync('tar', ['--format', 'gnu', '--no-recursion', '-C', root, '-cf', tar, '-T', '-'], { input: names.join('\n') + '\n' }).status, 0);
  // Every value of every option at least once, in varied company (a full product is ~260 gpg runs).
  const variants: string[][] = CIPHERS.map((c, i) => ['--cipher-algo', c, '--compress-algo', COMPRESSIONS[i % 4], '--s2k-mode', S2K_MODES[i % 3], ...(i % 2 ? ['--armor'] : [])]);
  for (const z of COMPRESSIONS) variants.push(['--compress-algo', z, '--armor']);
  // bzip2 through our decoder (fast-path ciphers) and through OpenPGP.js (CAST5).
  for (const c of ['AES256', 'CAMELLIA128', '3DES', 'CAST5']) variants.push(['--cipher-algo', c, '--compress-algo', 'bzip2', '--bzip2-compress-level', '1']);
  for (const m of S2K_MODES) variants.push(['--s2k-mode', m, '--s2k-digest-algo', m === '0' ? 'SHA1' : 'SHA512']);
  const table: string[] = [];
  const disagree: string[] = [];
  for (const args of variants) {
    const file = gpgEncrypt(dir, tar, [...FAST_S2K, ...args]);
    for (const [how, f] of damaged(file)) {
      const what = `gpg ${args.join(' ')}${how}`;
      const gpg = gpgDecrypt(dir, f);
      const o = await ours(f);
      table.push(row(what, 'gpg', gpg.status === 0, o));
      if (cannotRead(args)) {
        // Known gap: gpg reads it, we say we cannot (never "wrong passphrase", never VALID);
        // damage found before the cipher matters (armor cut short) is still INVALID.
        if (how === '') assert.equal(o.verdict, 'UnsupportedArchiveError', `${what}: ${o.why}`);
        else assert.ok(['UnsupportedArchiveError', 'INVALID'].includes(o.verdict), `${what}: ${o.verdict} ${o.why}`);
        continue;
      }
      if ((gpg.status === 0) !== (o.verdict === 'VALID')) disagree.push(`${what}: gpg exit ${gpg.status} (${gpg.said.slice(0, 80)}), ours ${o.verdict} ${o.why}`);
      if (how === '' && o.report) assert.equal(o.report.entryCount, names.length, what);
    }
  }
  t.diagnostic('\n' + table.join('\n'));
  assert.deepEqual(disagree, []);
});

/** Python's tarfile, with what GNU tar's tree lacks: symlink, hard link, fifo, devices, a long name. */
function pythonTar(format: 'USTAR' | 'GNU' | 'PAX'): string {
  const out = join(dir, `python-${format}.tar`);
  const py = `import io, json, os, sys, tarfile
root, out, names = sys.argv[1], sys.argv[2], json.load(sys.stdin)
with tarfile.open(out, 'w', format=tarfile.${format}_FORMAT) as t:
    for n in names:
        t.add(os.path.join(root, n), arcname=n, recursive=False)
    def extra(name, type, **kw):
        ti = tarfile.TarInfo(name); ti.type = type
        for k, v in kw.items(): setattr(ti, k, v)
        t.addfile(ti)
    extra('./ucp-kv/link-to-key.pem', tarfile.SYMTYPE, linkname='../ucp-controller-server-certs/key.pem')
    extra('./ucp-kv/hard-key.pem', tarfile.LNKTYPE, linkname='./ucp-controller-server-certs/key.pem')
    extra('./ucp-kv/fifo', tarfile.FIFOTYPE)
    extra('./ucp-kv/null', tarfile.CHRTYPE, devmajor=1, devminor=3)
    extra('./ucp-kv/loop0', tarfile.BLKTYPE, devmajor=7, devminor=0)
    ti = tarfile.TarInfo('./ucp-kv/' + 'd' * 90 + '/' + 'f' * 60 + '.json'); data = b'{}'; ti.size = len(data)
    t.addfile(ti, io.BytesIO(data))`;
  const r = spawnSync('python3', ['-c', py, root, out], { input: JSON.stringify(names) });
  assert.equal(r.status, 0, r.stderr.toString());
  return out;
}

function gnuTar(format: string): string {
  const out = join(dir, `gnu-${format}.tar`);
  const r = spawnSync('tar', ['--format', format, '--no-recursion', '-C', root, '-cf', out, '-T', '-'], { input: names.join('\n') + '\n' });
  assert.equal(r.status, 0, r.stderr.toString());
  return out;
}

test('tar corpus: GNU tar (v7, oldgnu, ustar, gnu, posix) and Python tarfile (ustar, gnu, pax), intact and damaged: the tar check passes exactly when tar --list does, same names', async (t) => {
  const tars: [string, string][] = [
    ...['v7', 'oldgnu', 'ustar', 'gnu', 'posix'].map((f) => [`GNU tar --format ${f}`, gnuTar(f)] as [string, string]),
    ...(['USTAR', 'GNU', 'PAX'] as const).map((f) => [`python tarfile ${f}_FORMAT`, pythonTar(f)] as [string, string]),
  ];
  const table: string[] = [];
  const disagree: string[] = [];
  for (const [name, file] of tars) {
    for (const [how, f] of damaged(file)) {
      const what = `${name}${how}`;
      const list = spawnSync('tar', ['--list', '-f', f]);
      const o = await ours(f);
      table.push(row(what, 'tar', list.status === 0, o));
      // tar --list checks the framing, not the data: compare with our tar check (a flipped data
      // byte still fails our etcd or manifest check, which tar has no equivalent of).
      const tarCheck = o.report?.checks.find((c) => c.id === 'tar');
      if ((list.status === 0) !== !!tarCheck?.pass) disagree.push(`${what}: tar exit ${list.status} (${list.stderr.toString().trim().slice(0, 80)}), ours ${o.verdict} ${o.why}`);
      if (how === '' && o.report) {
        const strip = (n: string) => n.replace(/\/$/, '');
        assert.deepEqual(o.report.entries.map((e) => strip(e.name)), list.stdout.toString().split('\n').filter(Boolean).map(strip), `${what}: names as tar lists them`);
      }
    }
  }
  t.diagnostic('\n' + table.join('\n'));
  assert.deepEqual(disagree, []);
});
