/**
 * The restore drill in the cluster, as an admin runs it: a fresh built-in backup on a
 * manager is restored and served by the image the manager's ucp-kv runs, in containers with
 * no network; its figures equal what the live store held; the result goes into the backup's
 * history record; an official-engine backup (the FIXTURE image) drills too; a damaged
 * snapshot FAILs on the etcd row; SIGTERM mid-drill leaves nothing.
 * After every drill no drill container or volume is left on any manager.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { loadavg } from 'node:os';
import { runCli, ROOT } from '../helpers/cli';
import { loadTestbed, testbedManager, TESTBED_DIR, writeClustersConfig } from '../helpers/testbed';
import { gpgEncrypt, makeTar, passFile, PASSPHRASE, tempDir } from '../helpers/archives';
import { realEtcdSnapshot } from '../helpers/etcd';
import { makePki } from '../helpers/pki';
import { AUTH_STORE_ENTRY, authStoreTarGz } from '../helpers/authStore';

const CONFIG = join(TESTBED_DIR, 'clusters.json');
const tb = loadTestbed();
const m1 = testbedManager('manager1', tb);
const dir = tempDir('ucp-drillit-');
const pass = passFile(dir);
const env = { UCP_BACKUP_STATE_DIR: join(dir, 'state') };
const name = `drill-${process.pid}.tar`;
let backupId: string;

const docker = (sock: string, ...args: string[]) => spawnSync('docker', ['-H', `unix://${sock}`, ...args], { encoding: 'utf8' }).stdout.trim();

/** Drill containers and volumes on every manager. */
function drillObjects(): string[] {
  return tb.managers.flatMap((m) => [
    ...docker(m.dockerSocketPath, 'ps', '-a', '--filter', 'label=com.ucp-backup.drill', '--format', '{{.Names}}').split('\n'),
    ...docker(m.dockerSocketPath, 'volume', 'ls', '-q', '--filter', 'label=com.ucp-backup.drill').split('\n'),
  ].filter(Boolean).map((n) => `${m.name}: ${n}`));
}

/** Those left since the test began: a drill must leave none (what a killed drill elsewhere left is not this test's). */
let baseline: Set<string>;
const drillLeftovers = () => drillObjects().filter((o) => !baseline.has(o));

/** What a SIGKILLed drill left on manager1 an hour ago (must go), and a drill's that just began (must stay). */
const planted = { stale: `ucp-backup-drill-stale-${process.pid}`, fresh: `ucp-backup-drill-fresh-${process.pid}` };
function plant(name: string, ageMs: number): void {
  const label = ['--label', `com.ucp-backup.drill=${Date.now() - ageMs}`];
  docker(m1.dockerSocketPath, 'volume', 'create', ...label, name);
  docker(m1.dockerSocketPath, 'create', '--name', name, '--network', 'none', ...label, '-v', `${name}:/drill`, `docker/ucp-etcd:${tb.ucpVersion}`);
}

before(async () => {
  plant(planted.stale, 61 * 60_000);
  plant(planted.fresh, 1000);
  baseline = new Set(drillObjects());
  for (;;) {
    const made = await runCli(['backup', '--config', CONFIG, '--node', 'manager1', '--engine', 'builtin', '--host-path', m1.backupDir, '--name', name, '--passphrase-file', pass, '--json'], { env });
    if (made.code === 3) {
      await new Promise((r) => setTimeout(r, 2000)); // another run holds the cluster lock
      continue;
    }
    assert.equal(made.code, 0, made.stderr);
    backupId = JSON.parse(made.stdout).id;
    break;
  }
});

after(() => {
  for (const n of Object.values(planted)) docker(m1.dockerSocketPath, 'rm', '-f', n), docker(m1.dockerSocketPath, 'volume', 'rm', n);
  rmSync(join(m1.backupDir, name), { force: true });
  rmSync(dir, { recursive: true, force: true });
});

test('a fresh built-in backup on a manager drills PASS with ucp-kv\'s own image: figures equal the live store\'s, the result is kept in its record', async () => {
  const r = await runCli(['drill', `manager1:${join(m1.backupDir, name)}`, '--config', CONFIG, '--passphrase-file', pass, '--json'], { env });
  assert.equal(r.code, 0, r.stdout + r.stderr);
  const report = JSON.parse(r.stdout);
  const row = (id: string) => report.checks.find((c: { id: string }) => c.id === id);
  assert.equal(report.verdict, 'PASS', JSON.stringify(report.checks, null, 2));
  assert.equal(report.source, `manager1:${join(m1.backupDir, name)}`);
  assert.match(row('etcdRestore').reason, new RegExp(`with docker/ucp-etcd:${tb.ucpVersion} \\(the image ucp-kv runs\\) on manager1, --network none`));
  assert.match(row('etcdMember').reason, /^etcd 3\.\d+\.\d+ on container [0-9a-f]{12} on manager1 .* answered at revision \d+, \d+ keys: \/registry \d+/);
  // The engine recorded the live store's key count at the snapshot's revision; the member serves the same.
  assert.match(row('etcdManifest').reason, new RegExp(`and the ${report.etcd.keys} keys the live store held equal the manifest's record`));
  assert.ok(report.etcd.keys > 10, `the sandbox store's seeded keys are there: ${report.etcd.keys}`);
  assert.equal(row('version').title, `Restorable on UCP ${tb.ucpVersion} (manager1)`);
  assert.equal(report.recordId, backupId);
  const shown = JSON.parse((await runCli(['show', backupId, '--config', CONFIG, '--json'], { env })).stdout);
  assert.equal(shown.lastDrill.verdict, 'PASS');
  assert.equal(shown.lastDrill.keys, report.etcd.keys);
  assert.equal(shown.lastDrill.ranOn, 'manager1');
  // The drill's own containers and volume are gone; a killed drill's old ones too, a running drill's stay.
  const objects = drillObjects();
  assert.ok(!objects.includes(`manager1: ${planted.stale}`), 'what a killed drill left an hour ago was removed');
  assert.ok(objects.includes(`manager1: ${planted.fresh}`), 'a drill that just began keeps its container');
  assert.deepEqual(drillLeftovers(), []);

  // The same archive with this machine's etcd: the same snapshot, revision and keys.
  const local = await runCli(['drill', join(m1.backupDir, name), '--local', '--passphrase-file', pass, '--json'], { env });
  assert.equal(local.code, 0, local.stdout + local.stderr);
  const l = JSON.parse(local.stdout);
  assert.deepEqual([l.etcd.hash, l.etcd.revision, l.etcd.keys, l.etcd.prefixes], [report.etcd.hash, report.etcd.revision, report.etcd.keys, report.etcd.prefixes]);
  console.log(`# drill of the sandbox backup (${report.etcd.keys} keys): in the cluster ${(report.durationMs / 1000).toFixed(1)} s, --local ${(l.durationMs / 1000).toFixed(1)} s, load ${loadavg()[0].toFixed(2)}`);
});

test('a backup by the official image (the sandbox FIXTURE docker/ucp) to a local file drills PASS on manager2, and the result is kept in its local record', async () => {
  const file = join(dir, 'official.tar');
  let made;
  while ((made = await runCli(['backup', '--config', CONFIG, '--node', 'manager2', '--engine', 'official', '--file', file, '--passphrase-file', pass, '--json'], { env })).code === 3) await new Promise((r) => setTimeout(r, 2000));
  assert.equal(made.code, 0, made.stderr);
  const r = await runCli(['drill', file, '--config', CONFIG, '--node', 'manager2', '--passphrase-file', pass, '--json'], { env });
  const report = JSON.parse(r.stdout);
  assert.equal(r.code, 0, JSON.stringify(report.checks, null, 2) + r.stderr);
  const row = (id: string) => report.checks.find((c: { id: string }) => c.id === id);
  assert.equal(row('etcdRestore').status, 'PASS');
  assert.equal(row('etcdMember').status, 'PASS');
  // The fixture writes the built-in engine's layout, manifest included; a real image's archive would show the figures uncompared.
  assert.equal(row('etcdManifest').status, 'PASS');
  assert.equal(report.manager, 'manager2');
  assert.equal(report.recordId, JSON.parse(made.stdout).id, 'the local record of that backup keeps the result');
  assert.deepEqual(drillLeftovers(), []);
});

test('a snapshot with damaged pages in an intact encrypted archive FAILs on the etcd row in the cluster; an unreachable manager is a FAIL row too', async () => {
  const snap = await realEtcdSnapshot();
  const damaged = Buffer.from(snap.data);
  for (let i = 8192; i < 8192 + 64; i++) damaged[i] ^= 0xff;
  const pki = join(dir, 'pki');
  spawnSync('mkdir', ['-p', pki]);
  const file = gpgEncrypt(dir, makeTar(dir, { etcdSnapshot: damaged, replace: { ...makePki(pki), [AUTH_STORE_ENTRY]: authStoreTarGz(dir, 'volume-copy') } }));
  const r = await runCli(['drill', file, '--config', CONFIG, '--node', 'manager2', '--passphrase-file', pass, '--json'], { env });
  assert.equal(r.code, 1, r.stderr);
  const report = JSON.parse(r.stdout);
  const restore = report.checks.find((c: { id: string }) => c.id === 'etcdRestore');
  assert.equal(restore.status, 'FAIL');
  assert.match(restore.reason, /SHA-256 etcd appended at `snapshot save` does not match the pages/);
  assert.equal(report.manager, 'manager2');
  // The OpenPGP and tar layers are intact: verify's complaint is the snapshot's own appended hash.
  assert.match(report.checks.find((c: { id: string }) => c.id === 'archive').reason, /^INVALID: .*etcd snapshot header sane/);
  assert.deepEqual(drillLeftovers(), []);

  const nowhere = writeClustersConfig([{ name: 'gone', nodes: [{ name: 'gone1', host: '127.0.0.1', port: 1, username: 'root', identityFile: tb.ssh.identityFile, knownHostsFile: tb.ssh.knownHostsFile }] }], dir);
  const off = await runCli(['drill', file, '--config', nowhere, '--passphrase-file', pass], { env });
  assert.equal(off.code, 1, off.stderr);
  assert.match(off.stdout, /FAIL etcd snapshot restores: no manager to restore it on: no manager of gone answers \(gone1: .*\)/);
  assert.doesNotMatch(off.stdout + off.stderr, /\n\s+at /);
});

test('SIGTERM mid-drill: exit 143, the drill\'s containers and volume are removed; they ran with no network and no secret in their config', async () => {
  const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'src', 'cli.ts'), 'drill', `manager1:${join(m1.backupDir, name)}`, '--config', CONFIG, '--passphrase-file', pass], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  const exited = new Promise<number | null>((r) => child.once('exit', (code, sig) => r(code ?? (sig ? 128 : null))));
  let seen: string | undefined;
  let done = false;
  void exited.then(() => (done = true));
  const before = new Set(docker(m1.dockerSocketPath, 'ps', '-a', '-q', '--filter', 'label=com.ucp-backup.drill').split('\n'));
  while (!done && !seen) {
    seen = docker(m1.dockerSocketPath, 'ps', '-a', '-q', '--filter', 'label=com.ucp-backup.drill').split('\n').find((id) => id && !before.has(id));
    if (!seen) await new Promise((r) => setTimeout(r, 50));
  }
  assert.ok(seen, `a drill container appeared on manager1 before the drill ended: ${out}`);
  const inspect = docker(m1.dockerSocketPath, 'inspect', seen);
  child.kill('SIGTERM');
  assert.equal(await exited, 143, out);
  const c = JSON.parse(inspect)[0];
  assert.equal(c.HostConfig.NetworkMode, 'none');
  assert.doesNotMatch(inspect, new RegExp(PASSPHRASE));
  assert.deepEqual(drillLeftovers(), []);
});
