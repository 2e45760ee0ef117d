/**
 * With the official image on the node (here the FIXTURE docker/ucp:3.2.4 built by
 * scripts/cluster/official-image.sh, which follows the documented CLI contract and checks
 * its own invocation), the backup runs it as the spec's stdout form: `--rm --log-driver none
 * --name ucp`, the Docker socket mounted, always `--no-passphrase` (the passphrase never goes
 * to the manager: the plain stream is encrypted on this machine), `--jsonlog` progress turned
 * into our progress; the archive goes to a local file or back to the manager's host folder.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { runCli } from '../helpers/cli';
import { SessionPool } from '../../src/core/ssh/sessionPool';
import { HELPER_LABEL } from '../../src/core/engine/dockerStreams';
import { CANCELLED_ERROR } from '../../src/core/engine/runBackup';
import { readLock } from '../../src/core/lock/clusterLock';
import type { BackupRecord } from '../../src/core/history/record';
import { backupInterrupted, CONFIG, PASSPHRASE, workDir, gpgDecrypt, tarList, sshDocker, waitForNoLock, testbedManager } from './backupKit';

const pool = new SessionPool();
const { dir, passFile } = workDir('ucp-backup-official-');
const env = { UCP_BACKUP_STATE_DIR: join(dir, 'state') };
const m2 = testbedManager('manager2');
const hostName = `official-${randomUUID().slice(0, 8)}.tar`;

before(async () => {
  const docker = await sshDocker(pool, 'manager2');
  const image = await docker.getImage('docker/ucp:3.2.4').inspect();
  assert.equal(image.Config.Labels?.['com.ucp-backup.fixture'], 'official-ucp', 'run scripts/cluster/official-image.sh (up.sh does)');
  await waitForNoLock(docker);
});
after(() => {
  pool.closeAll();
  for (const f of [hostName, hostName.replace('.tar', '.log')]) rmSync(join(m2.backupDir, f), { force: true });
  rmSync(dir, { recursive: true, force: true });
});

async function backup(args: string[]) {
  for (;;) {
    const r = await runCli(['backup', '--config', CONFIG, '--node', 'manager2', '--json', '--verbose', ...args], { env });
    if (r.code !== 3) return r;
    await waitForNoLock(await sshDocker(pool, 'manager2'));
  }
}

test('the official image streams an encrypted archive from stdout into a local file', async () => {
  const file = join(dir, 'official.tar');
  const r = await backup(['--engine', 'official', '--file', file, '--passphrase-file', passFile, '--include-logs']);
  assert.equal(r.code, 0, r.stderr);
  const record = JSON.parse(r.stdout) as BackupRecord;
  assert.equal(record.engine, 'official');
  assert.equal(record.backupState, 'SUCCESS');
  assert.equal(record.encrypted, true);

  // The spec's command (stdout form), as run: no passphrase goes to the image.
  assert.match(r.stderr, /official: docker container run --rm --interactive --log-driver none --name ucp --volume \/var\/run\/docker\.sock:\/var\/run\/docker\.sock docker\/ucp:3\.2\.4 backup --no-passphrase --jsonlog \(encrypted on this machine\)/);
  assert.match(r.stderr, /official: info: fixture argv: backup --no-passphrase --jsonlog\n/, 'the image was given --no-passphrase');
  assert.match(record.engineReason ?? '', /docker\/ucp:3\.2\.4 is on manager2; run with --no-passphrase, the archive encrypted on the admin's machine/);
  // The image itself confirms how it was started (it inspects its own container).
  assert.match(r.stderr, /official: info: invocation: --rm --log-driver none --name ucp --volume \/var\/run\/docker\.sock:\/var\/run\/docker\.sock\n/);
  assert.ok(!r.stderr.includes(PASSPHRASE));
  // --jsonlog lines became progress events of every spec step.
  for (const step of ['validation', 'metadata', 'volumes', 'etcd', 'rethinkdb', 'write']) {
    assert.match(r.stderr, new RegExp(`^\\[${step}\\]`, 'm'), `no ${step} progress`);
  }
  assert.match(r.stderr, /^\[etcd\] Taking an etcd snapshot in ucp-kv$/m, 'a jsonlog message as a progress line');

  const bytes = readFileSync(file);
  assert.equal(bytes.length, record.size);
  assert.equal(createHash('sha256').update(bytes).digest('hex'), record.sha256);
  // Byte for byte what the image streamed (the FIXTURE reports the SHA-256 of its stdout).
  const plain = gpgDecrypt(file, passFile, dir);
  const streamed = /official: info: Backup complete: (\d+) bytes, sha256 ([0-9a-f]{64})/.exec(r.stderr);
  assert.ok(streamed, 'the fixture reports what it streamed');
  assert.equal(plain.length, Number(streamed[1]));
  assert.equal(createHash('sha256').update(plain).digest('hex'), streamed[2]);
  const names = tarList(plain);
  assert.ok(names.length >= 27, `only ${names.length} entries`);
  assert.ok(names.includes('./ucp-controller-server-certs/key.pem'));
  // The image's --include-logs needs --file; for the stdout form we write the log, encrypted.
  assert.match(gpgDecrypt(join(dir, 'official.log'), passFile, dir).toString(), /official: info: Taking an etcd snapshot/);
  assert.deepEqual(readdirSync(dir).filter((n) => n.includes('partial')), []);
});

test('with --engine auto and a host path the image streams to us and the archive is written back to the folder, owned by nobody', async () => {
  const r = await backup(['--engine', 'auto', '--host-path', m2.backupDir, '--name', hostName, '--no-passphrase', '--include-logs']);
  assert.equal(r.code, 0, r.stderr);
  const record = JSON.parse(r.stdout) as BackupRecord;
  assert.equal(record.engine, 'official', 'auto picks the official image when it is on the node');
  assert.equal(record.location, 'host');
  assert.equal(record.encrypted, false);
  assert.equal(record.logFileName, hostName.replace('.tar', '.log'));
  assert.match(r.stderr, /docker\/ucp:3\.2\.4 backup --no-passphrase --jsonlog\n/);
  assert.doesNotMatch(r.stderr, /:\/backup/, 'no host folder is mounted into the image');

  // This testbed's managers share the host's filesystem, so the node's files are visible here.
  const archive = join(m2.backupDir, hostName);
  const st = statSync(archive);
  assert.equal(st.uid, 65534);
  assert.equal(st.size, record.size);
  assert.equal(createHash('sha256').update(readFileSync(archive)).digest('hex'), record.sha256);
  const names = tarList(archive);
  assert.ok(names.length >= 27);
  assert.ok(names.includes('./ucp-controller-server-certs/key.pem'));
  const log = join(m2.backupDir, record.logFileName);
  assert.equal(statSync(log).uid, 65534);
  assert.equal(statSync(archive).mode & 0o777, 0o600, 'the archive holds CA keys: 0600');
  assert.match(readFileSync(log, 'utf8'), /Taking an etcd snapshot/);
  assert.deepEqual(readdirSync(m2.backupDir).filter((n) => n.includes('partial')), []);
});

test('cancelling an official run stops the image gracefully: FAILED, no file, no ucp or helper container', async () => {
  const docker = await sshDocker(pool, 'manager2');
  // The image reports its volumes step: Ctrl-C there.
  const { code, stdout, stderr, sent } = await backupInterrupted(docker, ['--config', CONFIG, '--node', 'manager2', '--engine', 'official', '--file', join(dir, 'cancel.tar'), '--passphrase-file', passFile, '--json'], env);
  assert.ok(sent, stderr);
  assert.equal(code, 130, stderr);
  const record = JSON.parse(stdout) as BackupRecord;
  assert.equal(record.backupState, 'FAILED');
  assert.equal(record.shortError, CANCELLED_ERROR);
  assert.deepEqual(readdirSync(dir).filter((n) => n.startsWith('cancel') || n.includes('partial')), []);
  assert.notEqual((await readLock(docker))?.backupId, record.id);
  const left = await docker.listContainers({ all: true, filters: { name: ['^/ucp$'] } });
  assert.deepEqual(left.map((c) => c.Names[0]), [], 'the ucp container is gone');
  // The fixture labels its helpers with our run id (it reads it from its own container's labels).
  const helpers = await docker.listContainers({ all: true, filters: { label: [`${HELPER_LABEL}=${record.id}`] } });
  assert.deepEqual(helpers.map((c) => c.Names[0]), [], "the image's own helpers are gone");
  // Once no other run holds the lock, nothing may be left paused (ucp-auth-store during its copy).
  await waitForNoLock(docker);
  const paused = await docker.listContainers({ all: true, filters: { status: ['paused'] } });
  assert.deepEqual(paused.map((c) => c.Names[0]), []);
});

test("a ucp container left by a killed run of ours is replaced; one started by hand is never touched", async () => {
  const docker = await sshDocker(pool, 'manager2');
  const leftover = () =>
    docker.createContainer({ name: 'ucp', Image: 'docker/ucp:3.2.4', Cmd: ['backup', '--no-passphrase'], Labels: { 'com.ucp-backup.run': 'killed-run' }, HostConfig: { NetworkMode: 'none' } });
  try {
    await leftover();
    const r = await backup(['--engine', 'official', '--file', join(dir, 'after-kill.tar'), '--no-passphrase']);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(tarList(join(dir, 'after-kill.tar')).includes('./ucp-controller-server-certs/key.pem'));

    // An admin's own `docker run --name ucp ...` (no label of ours): refused with the way out.
    await docker.createContainer({ name: 'ucp', Image: 'docker/ucp:3.2.4', Cmd: ['backup', '--no-passphrase'], HostConfig: { NetworkMode: 'none' } });
    const refused = await backup(['--engine', 'official', '--file', join(dir, 'refused.tar'), '--no-passphrase']);
    assert.equal(refused.code, 1, refused.stderr);
    assert.match(refused.stderr, /a container named "ucp" already exists on manager2.*docker rm -f ucp/s);
    assert.equal((await docker.getContainer('ucp').inspect()).Config.Labels?.['com.ucp-backup.run'], undefined, 'still the admin’s container');
  } finally {
    await docker.getContainer('ucp').remove({ force: true }).catch(() => undefined);
  }
});
