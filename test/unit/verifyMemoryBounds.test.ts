/**
 * Peak RSS of the real CLI (bundled as it ships, run in a child process) stays under 128 MiB
 * for inputs built to make a reader grow: the OpenPGP.js fallback ciphers with gpg's largest
 * S2K count, and a compression bomb. Archives are made at test time by real gpg, streamed
 * (nothing of gigabytes is ever on disk). Numbers are printed; docs/bench-verify.md has them.
 */
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { bundleCli, gpgEncrypt, gpgEncryptStreamed, makeTar, passFile, PASSPHRASE, runMeasured, tempDir } from '../helpers/archives';
import { manyEntriesTar, manyInspectTar, runMeasuredWithStdin, zeroFileTar } from '../helpers/hostileArchives';

const LIMIT_MIB = 128;
const dir = tempDir('ucp-verify-bounds-');
let cli: string;
before(async () => {
  cli = await bundleCli(dir);
});
after(() => rmSync(dir, { recursive: true, force: true }));

async function verifyMeasured(file: string, extra: string[] = []) {
  const r = await runMeasured(cli, ['verify', file, '--passphrase-file', passFile(dir), ...extra]);
  assert.ok(r.code === 0 || r.code === 1, `exit ${r.code}: ${r.stderr}`);
  assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
  return r;
}

/** gpg's largest S2K count: OpenPGP.js alone would hold 65 MB of hash input per key half. */
const MAX_S2K = ['--s2k-mode', '3', '--s2k-count', '65011712'];

for (const cipher of ['TWOFISH', 'CAST5', 'BLOWFISH']) {
  test(`a tiny archive in ${cipher} (OpenPGP.js, largest S2K count): VALID, peak RSS under 128 MiB`, async (t) => {
    const file = gpgEncrypt(dir, makeTar(dir), ['--cipher-algo', cipher, ...MAX_S2K]);
    const r = await verifyMeasured(file, ['--json']);
    const report = JSON.parse(r.stdout) as { verdict: string; cipher: string };
    assert.equal(report.verdict, 'VALID', r.stdout);
    assert.equal(report.cipher, cipher);
    t.diagnostic(`${cipher}: peak RSS ${r.peakRssMiB.toFixed(1)} MiB`);
    assert.ok(r.peakRssMiB > 0 && r.peakRssMiB <= LIMIT_MIB, `peak RSS ${r.peakRssMiB.toFixed(1)} MiB`);
  });
}

test('16 MiB in Twofish (OpenPGP.js, the slowest fallback cipher), uncompressed: VALID-framed and read through, peak RSS under 128 MiB', async (t) => {
  const file = join(dir, 'twofish16.gpg');
  await gpgEncryptStreamed(dir, zeroFileTar('./zeros.bin', 16 * 1024 ** 2), file, ['--cipher-algo', 'TWOFISH', '--compress-algo', 'none']);
  const r = await verifyMeasured(file, ['--json']);
  const report = JSON.parse(r.stdout) as { cipher: string; tarBytes: number; checks: { id: string; pass: boolean }[] };
  assert.equal(report.cipher, 'TWOFISH');
  assert.ok(report.tarBytes > 16 * 1024 ** 2);
  for (const id of ['integrity', 'tar']) assert.ok(report.checks.find((c) => c.id === id)?.pass, JSON.stringify(report.checks));
  t.diagnostic(`Twofish 16 MiB: peak RSS ${r.peakRssMiB.toFixed(1)} MiB, ${(r.wallMs / 1000).toFixed(1)} s (was 136 MiB at 32 MiB)`);
  assert.ok(r.peakRssMiB > 0 && r.peakRssMiB <= LIMIT_MIB, `peak RSS ${r.peakRssMiB.toFixed(1)} MiB`);
  rmSync(file, { force: true });
});

test('a wrong passphrase for a Twofish archive is still told as one (the session key is derived by us)', async () => {
  const file = gpgEncrypt(dir, makeTar(dir), ['--cipher-algo', 'TWOFISH']);
  const r = await runMeasured(cli, ['verify', file, '--passphrase-file', passFile(dir, 'not the passphrase')]);
  assert.equal(r.code, 2, r.stdout + r.stderr);
  assert.match(r.stderr, /passphrase does not decrypt/);
});


/** Before the listing was streamed: 144 MiB plain, 274 MiB --list, 337 MiB --json, growing with the count. */
const MANY = 200_000;
for (const mode of ['plain', '--list', '--json'] as const) {
  test(`${MANY.toLocaleString('en-US')} tiny entries piped in (verify - ${mode === 'plain' ? '' : mode}): peak RSS under 128 MiB, listing complete`, async (t) => {
    const args = ['verify', '-', ...(mode === 'plain' ? [] : [mode])];
    const r = await runMeasuredWithStdin(cli, args, manyEntriesTar(MANY), mode !== 'plain');
    assert.equal(r.code, 1, r.stderr); // not a UCP backup (no key.pem), but read to the end
    assert.doesNotMatch(r.stderr, /\n\s+at /);
    if (mode === '--json') {
      const report = JSON.parse(r.stdout) as { entries: { name: string; sha256?: string }[]; entryCount: number; truncatedListing: boolean; checks: { id: string; pass: boolean }[] };
      assert.equal(report.entryCount, MANY);
      assert.equal(report.entries.length, MANY);
      assert.equal(report.truncatedListing, false);
      assert.equal(report.entries[MANY - 1].name, `./d/f${MANY - 1}`);
      assert.match(report.entries[7].sha256 ?? '', /^ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb$/); // sha256("a")
      assert.ok(report.checks.find((c) => c.id === 'tar')?.pass);
    } else if (mode === '--list') {
      const lines = r.stdout.split('\n');
      assert.equal(lines.filter((l) => l.startsWith('-rw-r--r-- ')).length, MANY);
      assert.match(lines[MANY - 1], /\.\/d\/f199999$/);
      assert.match(r.stdout, new RegExp(`${MANY} entries`));
    } else assert.match(r.stdout, new RegExp(`${MANY} entries`));
    t.diagnostic(`${mode}: peak RSS ${r.peakRssMiB.toFixed(1)} MiB, ${r.stdoutBytes} bytes out`);
    assert.ok(r.peakRssMiB > 0 && r.peakRssMiB <= LIMIT_MIB, `peak RSS ${r.peakRssMiB.toFixed(1)} MiB`);
  });
}

test('100,000 ucp-*.json inspect documents: the controller\'s version is found once, nothing kept per document, peak RSS under 128 MiB', async (t) => {
  const r = await runMeasuredWithStdin(cli, ['verify', '-', '--json'], manyInspectTar(100_000), true);
  assert.equal(r.code, 1, r.stderr);
  const report = JSON.parse(r.stdout) as { ucpVersion?: string; entryCount: number };
  assert.equal(report.entryCount, 100_000);
  assert.equal(report.ucpVersion, '3.2.4');
  t.diagnostic(`inspect documents: peak RSS ${r.peakRssMiB.toFixed(1)} MiB`);
  assert.ok(r.peakRssMiB > 0 && r.peakRssMiB <= LIMIT_MIB, `peak RSS ${r.peakRssMiB.toFixed(1)} MiB`);
});

test('50,000 etcd snapshots: the first 5 are checked, the rest counted in one failing check (the report stays small)', async () => {
  const r = await runMeasuredWithStdin(cli, ['verify', '-', '--json'], manyEntriesTar(50_000, (i) => `./ucp-backup/${i}/etcd.backup.db`), true);
  assert.equal(r.code, 1, r.stderr);
  const etcd = (JSON.parse(r.stdout) as { checks: { id: string; pass: boolean; reason: string }[] }).checks.filter((c) => c.id === 'etcd');
  assert.equal(etcd.length, 6);
  assert.match(etcd[5].reason, /^49995 more etcd snapshots not checked/);
  assert.ok(r.peakRssMiB > 0 && r.peakRssMiB <= LIMIT_MIB, `peak RSS ${r.peakRssMiB.toFixed(1)} MiB`);
});

/**
 * A tar of one file of zeros, compressed by gpg into a few KiB. Before: bzip2 went to
 * OpenPGP.js, whose decoder gathers each 900k block's output (~46 MB of zeros, grown by
 * doubling): 297 MiB for 1 GiB, and the peak is per block, so 256 MiB shows it as well. gpg
 * takes ~15 s to bzip2 1 GiB here, so the bzip2 bomb is 256 MiB (1 GiB by hand: bench-verify.md).
 */
const MiB = 1024 ** 2;
for (const [algo, bytes, extra] of [['bzip2', 256 * MiB, ['--bzip2-compress-level', '9']], ['zlib', 1024 * MiB, ['-z', '1']]] as const) {
  test(`a ${bytes / MiB} MiB ${algo} bomb (gpg --compress-algo ${algo} ${extra.join(' ')}): read to the end, peak RSS under 128 MiB`, async (t) => {
    const file = join(dir, `bomb-${algo}.gpg`);
    await gpgEncryptStreamed(dir, zeroFileTar('./zeros.bin', bytes), file, ['--compress-algo', algo, ...extra]);
    const size = statSync(file).size;
    const r = await verifyMeasured(file, ['--json']);
    const report = JSON.parse(r.stdout) as { compression: string; tarBytes: number; checks: { id: string; pass: boolean; reason: string }[]; entries: { size: number }[] };
    assert.equal(report.compression, algo.toUpperCase());
    assert.ok(report.tarBytes > bytes, `only ${report.tarBytes} bytes of tar were read`);
    assert.equal(report.entries[0].size, bytes);
    for (const id of ['integrity', 'tar']) assert.ok(report.checks.find((c) => c.id === id)?.pass, JSON.stringify(report.checks));
    t.diagnostic(`${algo}: ${size} bytes expand to ${report.tarBytes}; peak RSS ${r.peakRssMiB.toFixed(1)} MiB, ${(r.wallMs / 1000).toFixed(1)} s`);
    assert.ok(r.peakRssMiB > 0 && r.peakRssMiB <= LIMIT_MIB, `peak RSS ${r.peakRssMiB.toFixed(1)} MiB`);
    rmSync(file, { force: true });
  });
}

/**
 * Argon2 passphrase stretching (RFC 9580 S2K 4) takes 2^m KiB: a tiny file asking for m = 20
 * took 1.2 GiB. gpg 2.2 cannot write Argon2, so OpenPGP.js writes the archive (m = 15, the most
 * verify allows); the hostile one is the same file with its m byte raised to 20.
 */
test('Argon2 S2K: 32 MiB is read (VALID, under 128 MiB); a file asking for 1 GiB is refused in one sentence, under 128 MiB', async (t) => {
  const openpgp = await import('openpgp');
  const tar = readFileSync(makeTar(dir));
  const enc = Buffer.from(
    (await openpgp.encrypt({
      message: await openpgp.createMessage({ binary: tar }),
      passwords: [PASSPHRASE],
      format: 'binary',
      config: { s2kType: openpgp.enums.s2k.argon2, s2kArgon2Params: { passes: 1, parallelism: 1, memoryExponent: 15 }, aeadProtect: false },
    })) as Uint8Array,
  );
  // SKESK v4: header (2), version, cipher, S2K type 4, salt (16), t, p, then m.
  assert.deepEqual([enc[2], enc[4], enc[23]], [4, 4, 15], 'an SKESK v4 with Argon2, m = 15');
  const ok = join(dir, 'argon2-15.gpg');
  writeFileSync(ok, enc);
  const r1 = await verifyMeasured(ok);
  assert.equal(r1.code, 0, r1.stdout + r1.stderr);
  const hostile = join(dir, 'argon2-20.gpg');
  enc[23] = 20;
  writeFileSync(hostile, enc);
  const r2 = await runMeasured(cli, ['verify', hostile, '--passphrase-file', passFile(dir)]);
  assert.equal(r2.code, 2, r2.stdout + r2.stderr);
  assert.match(r2.stderr, /^ucp-backup: This backup stretches its passphrase with Argon2 that needs more than 32 MiB of memory/);
  assert.doesNotMatch(r2.stderr, /\n\s+at /);
  t.diagnostic(`Argon2 m=15: peak RSS ${r1.peakRssMiB.toFixed(1)} MiB; m=20 refused at ${r2.peakRssMiB.toFixed(1)} MiB (was 1,235 MiB)`);
  for (const r of [r1, r2]) assert.ok(r.peakRssMiB > 0 && r.peakRssMiB <= LIMIT_MIB, `peak RSS ${r.peakRssMiB.toFixed(1)} MiB`);
});
