/**
 * Verifying a backup that is still on a manager (the spec's hostPath folder): streamed
 * through the SSH-tunnelled Docker socket from a never-started helper container, not
 * downloaded first; the helper is always removed again.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes, randomUUID } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { runCli } from '../helpers/cli';
import { loadTestbed, testbedManager, TESTBED_DIR } from '../helpers/testbed';
import { gpgEncrypt, makeTar, passFile, tempDir } from '../helpers/archives';

const CONFIG = join(TESTBED_DIR, 'clusters.json');
const m1 = testbedManager('manager1', loadTestbed());
const dir = tempDir();
const tag = randomUUID().slice(0, 8);
const good = join(m1.backupDir, `verify-${tag}.tar`);
const damaged = join(m1.backupDir, `verify-${tag}-damaged.tar`);
const pass = passFile(dir);

after(() => {
  for (const f of [good, damaged]) rmSync(f, { force: true });
  rmSync(dir, { recursive: true, force: true });
});

/** Helper containers of verify left on manager1 (there must be none after a run). */
function verifyHelpers(): string[] {
  const r = spawnSync('docker', ['-H', `unix://${m1.dockerSocketPath}`, 'ps', '-a', '--filter', 'label=com.ucp-backup.helper', '--format', '{{.Names}}']);
  return r.stdout.toString().split('\n').filter((n) => n.endsWith('-verify'));
}

const remote = (path: string, extra: string[] = []) => runCli(['verify', '--config', CONFIG, '--node', 'manager1', '--remote', path, '--passphrase-file', pass, ...extra]);

test('a backup in the manager\'s host folder is verified in place: VALID, same bytes as the file', async () => {
  // 8 MiB of content so the stream spans many chunks through the tunnel.
  copyFileSync(gpgEncrypt(dir, makeTar(dir, { extra: { 'ucp-kv/payload.bin': randomBytes(8 << 20) } }), ['--compress-algo', 'none']), good);
  const r = await remote(good, ['--json', '--sha256']);
  assert.equal(r.code, 0, r.stderr + r.stdout);
  const report = JSON.parse(r.stdout);
  assert.equal(report.verdict, 'VALID');
  assert.equal(report.source, `manager1:${good}`);
  assert.equal(report.bytes, statSync(good).size);
  const { createHash } = await import('node:crypto');
  assert.equal(report.sha256, createHash('sha256').update(readFileSync(good)).digest('hex'));
  assert.equal(report.entryCount, 29);
  assert.deepEqual(verifyHelpers(), []);
});

test('a damaged backup on the manager is INVALID (exit 1); a missing one is exit 2 with the path', async () => {
  const b = readFileSync(good);
  b[Math.floor(b.length / 2)] ^= 0x20;
  writeFileSync(damaged, b);
  const bad = await remote(damaged);
  assert.equal(bad.code, 1, bad.stderr);
  assert.match(bad.stdout, /FAIL OpenPGP integrity \(MDC\): .*Modification detected/);
  const missing = await remote(join(m1.backupDir, `nope-${tag}.tar`));
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /Cannot read .*nope-.*\.tar on manager1: no such file/);
  const noFolder = await remote(`/no/such/folder-${tag}/b.tar`);
  assert.equal(noFolder.code, 2);
  assert.match(noFolder.stderr, /Cannot read \/no\/such\/folder-.* on manager1/);
  assert.deepEqual(verifyHelpers(), []);
});
