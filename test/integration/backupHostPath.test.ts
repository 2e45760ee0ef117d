/**
 * The admin writes the backup into a folder on the manager (the spec's hostPath): the file
 * is owned by nobody; a folder nobody cannot write to fails validation with the spec's
 * `chown nobody:nogroup` fix.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { runCli } from '../helpers/cli';
import { SessionPool } from '../../src/core/ssh/sessionPool';
import { getClusterRecord } from '../../src/core/history/clusterHistory';
import type { BackupRecord } from '../../src/core/history/record';
import { CONFIG, workDir, tarList, gpgDecrypt, sshDocker, waitForNoLock, testbedManager } from './backupKit';

const pool = new SessionPool();
const { dir, passFile } = workDir('ucp-backup-host-');
const env = { UCP_BACKUP_STATE_DIR: join(dir, 'state') };
const m2 = testbedManager('manager2');
const name = `it-${randomUUID().slice(0, 8)}.tar`;

before(async () => waitForNoLock(await sshDocker(pool, 'manager2')));
after(() => {
  pool.closeAll();
  for (const f of [name, name.replace('.tar', '.log')]) rmSync(join(m2.backupDir, f), { force: true });
  rmSync(dir, { recursive: true, force: true });
});

async function backup(args: string[]) {
  for (;;) {
    const r = await runCli(['backup', '--config', CONFIG, '--node', 'manager2', '--engine', 'builtin', '--json', ...args], { env });
    if (r.code !== 3) return r;
    await waitForNoLock(await sshDocker(pool, 'manager2'));
  }
}

test('a host-path backup lands in the folder on the manager, owned by nobody', async () => {
  const r = await backup(['--host-path', m2.backupDir, '--name', name, '--no-passphrase', '--include-logs']);
  assert.equal(r.code, 0, r.stderr);
  const record = JSON.parse(r.stdout) as BackupRecord;
  assert.equal(record.location, 'host');
  assert.equal(record.backupPath, m2.backupDir);
  // This testbed's managers share the host's filesystem, so the node's file is visible here.
  const st = statSync(join(m2.backupDir, name));
  assert.equal(st.uid, 65534);
  assert.equal(st.size, record.size);
  assert.equal(statSync(join(m2.backupDir, name.replace('.tar', '.log'))).uid, 65534);
  assert.ok(tarList(join(m2.backupDir, name)).includes('./ucp-controller-server-certs/key.pem'));
  assert.deepEqual(readdirSync(m2.backupDir).filter((n) => n.includes('partial')), []);
  assert.equal((await getClusterRecord(await sshDocker(pool, 'manager1'), record.id))?.backupState, 'SUCCESS');
});

test('a folder not writable by nobody fails validation with the chown fix and a FAILED record', async () => {
  const r = await backup(['--host-path', m2.rootOwnedBackupDir, '--name', name, '--no-passphrase']);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /sudo chown nobody:nogroup /);
  assert.deepEqual(readdirSync(m2.rootOwnedBackupDir).filter((n) => n.includes(name)), []);
});

test('an encrypted host-path backup and its log open with gpg; the same name is replaced only with --overwrite', async () => {
  const encName = name.replace('.tar', '-enc.tar');
  const logName = encName.replace('.tar', '.log');
  try {
    const r = await backup(['--host-path', m2.backupDir, '--name', encName, '--passphrase-file', passFile, '--include-logs']);
    assert.equal(r.code, 0, r.stderr);
    const record = JSON.parse(r.stdout) as BackupRecord;
    assert.equal(record.encrypted, true);
    assert.equal(record.logFileName, logName);
    const names = tarList(gpgDecrypt(join(m2.backupDir, encName), passFile, dir));
    assert.ok(names.length >= 27, `only ${names.length} entries`);
    assert.ok(names.includes('./ucp-controller-server-certs/key.pem'));
    assert.match(gpgDecrypt(join(m2.backupDir, logName), passFile, dir).toString(), /\[rethinkdb\]/);

    const size = statSync(join(m2.backupDir, encName)).size;
    const again = await backup(['--host-path', m2.backupDir, '--name', encName, '--no-passphrase']);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /already exists/);
    assert.equal(statSync(join(m2.backupDir, encName)).size, size, 'left as it was');
    const over = await backup(['--host-path', m2.backupDir, '--name', encName, '--no-passphrase', '--overwrite']);
    assert.equal(over.code, 0, over.stderr);
    assert.ok(tarList(join(m2.backupDir, encName)).includes('./ucp-controller-server-certs/key.pem'), 'now the plain tar');
  } finally {
    for (const f of [encName, logName]) rmSync(join(m2.backupDir, f), { force: true });
  }
});
