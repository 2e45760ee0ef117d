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
import { Agent } from 'node:http';
import Docker from 'dockerode';
import { runCli } from '../helpers/cli';
import { loadTestbed, testbedManager, TESTBED_DIR } from '../helpers/testbed';
import { gpgEncrypt, makeTar, passFile, tempDir } from '../helpers/archives';

const CONFIG = join(TESTBED_DIR, 'clusters.json');
const m1 = testbedManager('manager1', loadTestbed());
const dir = tempDir();
const tag = randomUUID().slice(0, 8);
const good = join(m1.backupDir, `verify-${tag}.tar`);
const damaged = join(m1.backupDir, `verify-${tag}-damaged.tar`);
const engineMade = `verify-${tag}-engine.tar`;
const pass = passFile(dir);

after(() => {
  for (const f of [good, damaged, join(m1.backupDir, engineMade)]) rmSync(f, { force: true });
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

test('a backup our engine just wrote on the manager verifies in place: manifest, real etcd snapshot, version', async () => {
  const env = { UCP_BACKUP_STATE_DIR: join(dir, 'state') };
  let made;
  for (;;) {
    made = await runCli(['backup', '--config', CONFIG, '--node', 'manager1', '--engine', 'builtin', '--host-path', m1.backupDir, '--name', engineMade, '--passphrase-file', pass, '--json'], { env });
    if (made.code !== 3) break; // 3: another teammate's backup holds the cluster lock; wait it out
    await new Promise((r) => setTimeout(r, 2000));
  }
  assert.equal(made.code, 0, made.stderr);
  const r = await remote(join(m1.backupDir, engineMade), ['--sha256', '--cluster-version', '3.2.4']);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /ok {3}Manifest SHA-256s match: all \d+ entries match their size and SHA-256/);
  assert.match(r.stdout, /ok {3}etcd snapshot header sane: .*bbolt v2.*etcd SHA-256 matches/);
  assert.match(r.stdout, /ok {3}UCP version found: 3\.2\.4/);
  assert.match(r.stdout, /ok {3}Restorable on UCP 3\.2\.4/);
  assert.deepEqual(verifyHelpers(), []);
});

test('a verify helper whose owner process is gone (a verify killed outright cannot remove it) is removed by the next verify; a live owner\'s stays', async () => {
  const { createHelper, removeQuietly } = await import('../../src/core/engine/dockerStreams');
  const { ownerLabels, OWNER_PID_LABEL } = await import('../../src/core/engine/orphanHelpers');
  const docker = new Docker({ socketPath: m1.dockerSocketPath, agent: new Agent({ keepAlive: false }) } as Docker.DockerOptions);
  const image = (await docker.listImages()).find((i) => i.RepoTags?.some((t) => !t.includes('<none>')))!.RepoTags![0];
  // A process that has exited: its pid is free, as a SIGKILLed verify's is.
  const gone = spawnSync('true').pid!;
  const helper = (owner: number, purpose: string) => createHelper(docker, { runId: randomUUID(), purpose, Image: image, Entrypoint: ['/never'], Labels: { ...ownerLabels(), [OWNER_PID_LABEL]: String(owner) } });
  const orphan = await helper(gone, 'verify');
  const live = await helper(process.pid, 'verify');
  try {
    assert.equal(verifyHelpers().length, 2);
    const r = await remote(good);
    assert.equal(r.code, 0, r.stderr);
    const names = verifyHelpers();
    assert.equal(names.length, 1, `left: ${names.join(', ')}`);
    assert.equal(names[0], (await live.inspect()).Name.replace(/^\//, ''), 'the live owner\'s helper stays');
    await assert.rejects(orphan.inspect(), /no such container/i);
  } finally {
    await removeQuietly(orphan);
    await removeQuietly(live);
  }
});
