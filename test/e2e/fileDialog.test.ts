/**
 * The lost file name of issue 10, made to happen every time: code-server's save dialog first
 * shows the parent folder, lists the default folder, and only then writes its default path into
 * the input — over whatever was typed meanwhile, and an Enter pressed meanwhile accepts that
 * default. A workspace of a few hundred files makes the listing slow enough that typing into the
 * gap is certain (seen: with the old "wait for a path, type, Enter" the download was saved under
 * the default name in 3 of 3 runs at 300 and 1,000 files). "Download Backup" must save under the
 * name the person typed; CodeServerSession.typeInFileDialog waits for the dialog's own default.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { Agent } from 'node:http';
import { join } from 'node:path';
import Docker from 'dockerode';
import { deleteBackupFiles } from '../../src/core/docker/hostFiles';
import type { BackupRecord } from '../../src/core/history/record';
import { runCli } from '../helpers/cli';
import { CodeServerSession, TESTBED_CLUSTERS, UI_TIMEOUT, poll } from '../helpers/codeServer';
import { testbedManager } from '../helpers/testbed';

const FILLER = 300;
const m1 = testbedManager('manager1');
const name = `e2e-dialog-${Date.now()}.tar`;
let s: CodeServerSession;
let record: BackupRecord | undefined;

before(async () => {
  const made = runCli(['backup', '--config', TESTBED_CLUSTERS, '--node', 'manager1', '--engine', 'builtin', '--host-path', m1.backupDir, '--name', name, '--no-passphrase', '--json']);
  const files: Record<string, Buffer> = {};
  for (let i = 0; i < FILLER; i++) files[`filler-${String(i).padStart(4, '0')}.tar`] = Buffer.from('not a backup');
  [s] = await Promise.all([CodeServerSession.start({ workspaceFiles: files }), made.then((r) => {
    if (r.code !== 0) throw new Error(`ucp-backup backup exited ${r.code}:\n${r.stderr}`);
    record = JSON.parse(r.stdout) as BackupRecord;
  })]);
});

after(async () => {
  await s?.close();
  if (record) await deleteBackupFiles(new Docker({ socketPath: m1.dockerSocketPath, agent: new Agent({ keepAlive: false }) } as Docker.DockerOptions), record).catch(() => undefined);
});

test('"Download Backup" saves under the typed name even when the save dialog is slow to propose its default', async () => {
  await s.step('dialog-download', async () => {
    await s.clickActivityBar('UCP Backup');
    const row = s.treeRowByLabel(name);
    await poll(async () => /— SUCCESS/.test((await row.getAttribute('aria-label').catch(() => null)) ?? ''), UI_TIMEOUT, `tree row ${name} with state SUCCESS`);
    await s.treeContextMenu(name, 'Download Backup');
    const typed = join(s.workspace, 'typed-by-the-admin.tar');
    await s.typeInFileDialog(typed, `Download ${name}`, join(s.workspace, name));
    await s.waitUnlessError(s.message(`Downloaded ${name} to ${typed}.`), `the download to ${typed}`);
    assert.ok(existsSync(typed), 'saved under the typed name');
    assert.ok(!existsSync(join(s.workspace, name)), 'nothing under the proposed default name');
  });
});
