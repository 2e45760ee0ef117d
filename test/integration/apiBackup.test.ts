/**
 * An admin backs up UCP through the UCP API (back-up-ucp.txt, "Create, list, and retrieve UCP
 * backups using the API") with `ucp-backup api ...`. The API server is the spec-exact FIXTURE
 * (test/fixtures/ucpApiServer.ts); behind it the project's real engine writes the archive into
 * hostPath on manager1 of the real test cluster, so the file, its owner and its contents are real.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { runCli, type CliResult } from '../helpers/cli';
import { SessionPool } from '../../src/core/ssh/sessionPool';
import { UcpApiClient } from '../../src/core/api/ucpApiClient';
import type { BackupRecord } from '../../src/core/history/record';
import { startUcpApiFixture, type UcpApiFixture } from '../fixtures/ucpApiServer';
import { engineRunner } from '../fixtures/api/engineRunner';
import { cluster, gpgDecrypt, node, sshDocker, tarList, testbedManager, waitForNoLock, workDir } from './backupKit';

const pool = new SessionPool();
const m1 = testbedManager('manager1');
const { dir, passFile } = workDir('ucp-api-it-');
const name = `it-api-${randomUUID().slice(0, 8)}.tar`;
let fx: UcpApiFixture;
let tls: string[];

before(async () => {
  fx = await startUcpApiFixture({ runner: engineRunner(pool, await cluster(), await node('manager1')) });
  writeFileSync(join(dir, 'ca.pem'), fx.caPem);
  writeFileSync(join(dir, 'password'), 'admin-password\n', { mode: 0o600 });
  mkdirSync(join(dir, 'gnupg'), { mode: 0o700 });
  tls = ['--url', fx.url, '--ca', join(dir, 'ca.pem')];
});
after(async () => {
  await fx.close();
  pool.closeAll();
  for (const f of [name, name.replace('.tar', '.log')]) rmSync(join(m1.backupDir, f), { force: true });
  rmSync(dir, { recursive: true, force: true });
});

/** Another helper's backup may hold the cluster's one lock: wait it out and ask again, as an admin would. */
async function apiBackupWaiting(args: string[]): Promise<CliResult> {
  for (let attempt = 0; ; attempt++) {
    await waitForNoLock(await sshDocker(pool, 'manager1'));
    const r = await runCli(['api', 'backup', ...tls, '--username', 'admin', '--password-file', join(dir, 'password'), '--wait', '--interval', '0.5', '--json', ...args]);
    if (attempt < 5 && r.code === 1 && /another backup is running/.test(r.stdout)) continue;
    return r;
  }
}

test('a backup created through the API lands in hostPath on the manager, owned by nobody, and gpg opens it', async () => {
  const r = await apiBackupWaiting(['--file-name', name, '--host-path', m1.backupDir, '--passphrase-file', passFile, '--include-logs']);
  assert.equal(r.code, 0, r.stderr + r.stdout);
  const record = JSON.parse(r.stdout) as BackupRecord;
  assert.equal(record.backupState, 'SUCCESS');
  assert.equal(record.encrypted, true);
  assert.equal(record.fileName, name);
  assert.equal(record.logFileName, name.replace('.tar', '.log'));
  assert.equal(record.backupPath, m1.backupDir);
  assert.equal(record.nodeLocation, 'manager1');

  // This testbed's managers share the host's filesystem, so the node's file is visible here.
  const file = join(m1.backupDir, name);
  assert.equal(statSync(file).uid, 65534, 'the spec: hostPath files belong to nobody');
  assert.equal(statSync(join(m1.backupDir, record.logFileName)).uid, 65534);
  const entries = tarList(gpgDecrypt(file, passFile, join(dir, 'gnupg')));
  assert.ok(entries.length >= 27, `spec: 27 or more files, got ${entries.length}`);
  assert.ok(entries.includes('./ucp-controller-server-certs/key.pem'));
  assert.deepEqual(readdirSync(m1.backupDir).filter((n) => n.includes('partial')), []);

  // GET /api/ucp/backups and /api/ucp/backup/{id} tell the same story.
  const api = new UcpApiClient({ url: fx.url, ca: fx.caPem });
  await api.login('admin', 'admin-password');
  assert.deepEqual(await api.getBackup(record.id), record);
  assert.ok((await api.listBackups()).some((b) => b.id === record.id && b.backupState === 'SUCCESS'));
});

test('a hostPath nobody cannot write to ends FAILED, saying so in shortError, and leaves no file', async () => {
  const failName = `it-api-fail-${randomUUID().slice(0, 8)}.tar`;
  const r = await apiBackupWaiting(['--file-name', failName, '--host-path', m1.rootOwnedBackupDir, '--no-passphrase']);
  assert.equal(r.code, 1, r.stderr);
  const record = JSON.parse(r.stdout) as BackupRecord;
  assert.equal(record.backupState, 'FAILED');
  assert.match(record.shortError, /not writable by the nobody user/);
  assert.deepEqual(readdirSync(m1.rootOwnedBackupDir).filter((n) => n.includes(failName.replace('.tar', ''))), []);
});
