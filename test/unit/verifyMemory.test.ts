/**
 * Verify streams (decrypt → tar framing → checks) and never gathers the plaintext: peak RSS
 * of the real CLI stays under 128 MiB for multi-GiB archives. The archives are made on the
 * fly (a tar generator piped into real gpg), the verify runs in a child process.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { bigTar, bundleCli, gpgEncryptStreamed, passFile, runMeasured, tempDir } from '../helpers/archives';

const GiB = 1024 ** 3;
const LIMIT_MIB = 128;
const dir = tempDir('ucp-verify-mem-');
after(() => rmSync(dir, { recursive: true, force: true }));

async function verifyMeasured(file: string) {
  const cli = await bundleCli(dir);
  const r = await runMeasured(cli, ['verify', file, '--passphrase-file', passFile(dir), '--json']);
  assert.equal(r.code, 0, r.stderr);
  return { report: JSON.parse(r.stdout) as { verdict: string; entryCount: number; tarBytes: number; compression: string }, rss: r.peakRssMiB };
}

test('1 GiB of sparse content (8x the memory bound), zlib-compressed by gpg defaults: VALID with peak RSS under 128 MiB', async (t) => {
  const file = join(dir, 'sparse1g.tar.gpg');
  await gpgEncryptStreamed(dir, bigTar(GiB, 'sparse'), file, []); // gpg defaults: compressed
  assert.ok(statSync(file).size < 256 << 20, 'the sparse archive should compress');
  const { report, rss } = await verifyMeasured(file);
  assert.equal(report.verdict, 'VALID');
  assert.equal(report.entryCount, 29);
  assert.ok(report.tarBytes > GiB, `only ${report.tarBytes} bytes of plaintext were read`);
  t.diagnostic(`peak RSS ${rss.toFixed(1)} MiB`);
  assert.ok(rss > 0 && rss <= LIMIT_MIB, `peak RSS ${rss.toFixed(1)} MiB`);
});

test('1 GiB of incompressible content, uncompressed: VALID with peak RSS under 128 MiB', async (t) => {
  const file = join(dir, 'noise1g.tar.gpg');
  await gpgEncryptStreamed(dir, bigTar(GiB, 'noise'), file);
  const { report, rss } = await verifyMeasured(file);
  rmSync(file, { force: true });
  assert.equal(report.verdict, 'VALID');
  assert.equal(report.compression, 'none');
  assert.ok(report.tarBytes > GiB);
  t.diagnostic(`peak RSS ${rss.toFixed(1)} MiB`);
  assert.ok(rss > 0 && rss <= LIMIT_MIB, `peak RSS ${rss.toFixed(1)} MiB`);
});
