/**
 * The managing commands in real VS Code (code-server) + real Chromium, against the real test
 * cluster, driven like a person: a host-path Backup Now, then Download, Compare and Delete from
 * the tree's context menu, Show Log, and Forget Passphrase (the next verify asks again).
 * One code-server for the whole file; on failure artifacts go to test-results/e2e/<test>/.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createReadStream, existsSync } from 'node:fs';
import { Agent } from 'node:http';
import { join } from 'node:path';
import Docker from 'dockerode';
import { deleteBackupFiles } from '../../src/core/docker/hostFiles';
import type { BackupRecord } from '../../src/core/history/record';
import { runCli } from '../helpers/cli';
import { CodeServerSession, TESTBED_CLUSTERS, UI_TIMEOUT, poll } from '../helpers/codeServer';
import { testbedManager } from '../helpers/testbed';

/** Typed into VS Code's password input boxes; to the CLI only on stdin. */
const PASSPHRASE = 'e2e-manage-passphrase-42';
const HOST_NODE = 'manager2';
const hostDir = testbedManager(HOST_NODE).backupDir;
const stamp = Date.now();
/** Made through the UI on manager2's host path (test 1), deleted through the UI (test 3). */
const hostBackup = `e2e-manage-host-${stamp}.tar`;
/** Made with the CLI on manager1's host path, the other side of Compare. */
const cliBackupName = `e2e-manage-cli-${stamp}.tar`;
const cliDir = testbedManager('manager1').backupDir;
const downloaded = `e2e-manage-download-${stamp}.tar`;

let s: CodeServerSession;
let hostRecord: BackupRecord | undefined;

const escape = (t: string) => t.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

async function cli(args: string[], stdin?: string) {
  return runCli([...args.slice(0, 1), '--config', TESTBED_CLUSTERS, ...args.slice(1)], { stdin });
}

/** The encrypted host-path backup on manager1, with the CLI; waits out others' backups (exit 3). */
async function cliHostBackup(): Promise<void> {
  const args = ['backup', '--node', 'manager1', '--engine', 'builtin', '--host-path', cliDir, '--name', cliBackupName, '--passphrase-file', '-'];
  for (let attempt = 1; ; attempt++) {
    const r = await cli(args, PASSPHRASE + '\n');
    if (r.code === 0) return;
    if (r.code !== 3 || attempt >= 60) throw new Error(`ucp-backup backup exited ${r.code}:\n${r.stderr}`);
    await new Promise((res) => setTimeout(res, 3000));
  }
}

async function recordByName(fileName: string): Promise<BackupRecord | undefined> {
  const r = await cli(['list', '--json']);
  if (r.code !== 0) throw new Error(`ucp-backup list exited ${r.code}:\n${r.stderr}`);
  return (JSON.parse(r.stdout) as BackupRecord[]).find((x) => x.fileName === fileName);
}

function sha256Of(path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const h = createHash('sha256');
    createReadStream(path)
      .on('data', (d) => h.update(d))
      .on('error', reject)
      .on('end', () => resolve(h.digest('hex')));
  });
}

before(async () => {
  [s] = await Promise.all([CodeServerSession.start(), cliHostBackup()]);
});

after(async () => {
  await s?.close();
  // Leave no files or records behind: the CLI's backup, and the UI's when a test failed before Delete.
  for (const name of [cliBackupName, hostBackup]) {
    const record = await recordByName(name).catch(() => undefined);
    if (!record) continue;
    // No keep-alive: dockerode's pooled socket would hold this file's process open for minutes.
    const options: Docker.DockerOptions & { agent: Agent } = { socketPath: testbedManager(record.nodeLocation).dockerSocketPath, agent: new Agent({ keepAlive: false }) };
    const docker = new Docker(options);
    await deleteBackupFiles(docker, record).catch((err) => console.error(`e2e: could not delete ${name}:`, err));
  }
});

/** "UCP: Backup Now" to a host path on manager2, answering the prompts as they come. */
async function hostPathBackupViaPalette(): Promise<string> {
  await s.runCommand('UCP: Backup Now');
  const result = s.backupResultToast();
  await s.answerPrompts(result, 'Backup Now', async (title) => {
    if (title === 'Manager node') await s.pickQuickItem(HOST_NODE);
    else if (title === 'Backup destination') await s.pickQuickItem(`Host path on ${HOST_NODE}`);
    else if (title === `Folder on ${HOST_NODE}`) await s.typeInQuickInput(hostDir);
    else if (title === 'Backup file name') await s.typeInQuickInput(hostBackup);
    else if (/^Backup passphrase for cluster demo/.test(title)) await s.typeInQuickInput(PASSPHRASE);
    else if (/^Confirm the backup passphrase/.test(title)) await s.typeInQuickInput(PASSPHRASE);
    else if (title === 'Remember the passphrase?') await s.pickQuickItem('Remember passphrase');
    else if (title === 'Backup log') await s.pickQuickItem('Include the backup log');
    else return false;
    return true;
  });
  return (await result.innerText()).replace(/\s+/g, ' ');
}

test('a host-path Backup Now on manager2, then "Download Backup" from the tree gives the recorded SHA-256', async () => {
  await s.step('manage-download', async () => {
    let text = '';
    // Another test file's backup may hold the cluster lock for a few seconds: a person retries.
    for (let attempt = 1; attempt <= 20; attempt++) {
      text = await hostPathBackupViaPalette();
      if (!/another backup is running/.test(text)) break;
      await s.dismissNotifications();
      await new Promise((r) => setTimeout(r, 3000));
    }
    assert.match(text, new RegExp(`UCP backup ${escape(hostBackup)} completed on ${HOST_NODE}`));
    assert.ok(existsSync(join(hostDir, hostBackup)), `the archive is in ${hostDir} on ${HOST_NODE}`);
    hostRecord = await recordByName(hostBackup);
    assert.ok(hostRecord, 'the backup has a record in the cluster history');
    assert.equal(hostRecord.location, 'host');
    assert.equal(hostRecord.backupState, 'SUCCESS');
    assert.ok(hostRecord.logFileName && existsSync(join(hostDir, hostRecord.logFileName)), 'the backup log is beside the archive');
    await s.dismissNotifications();

    await s.clickActivityBar('UCP Backup');
    const row = s.treeRowByLabel(hostBackup);
    await poll(async () => /— SUCCESS/.test((await row.getAttribute('aria-label').catch(() => null)) ?? ''), UI_TIMEOUT, `tree row ${hostBackup} with state SUCCESS`);
    await s.treeContextMenu(hostBackup, 'Download Backup');
    const target = join(s.workspace, downloaded);
    await s.typeInFileDialog(target, `Download ${hostBackup}`);
    await s.waitUnlessError(s.message(`Downloaded ${hostBackup} to ${target}.`), `the download to ${target}`);
    assert.ok(existsSync(target), 'the downloaded file is in the workspace');
    assert.equal(await sha256Of(target), hostRecord.sha256, 'SHA-256 of the download = the record');
    await s.dismissNotifications();
  });
});

test('"Compare Backups" from the tree shows the added / removed / changed counts', async () => {
  assert.ok(hostRecord, 'needs the backup of the previous test');
  await s.step('manage-compare', async () => {
    await s.clickActivityBar('UCP Backup');
    await s.treeContextMenu(hostBackup, 'Compare Backups');
    const pick = s.quickInput().filter({ hasText: 'Compare with which backup?' });
    await s.waitUnlessError(pick, 'the pick of the other backup');
    await s.quickInput().locator('input').fill(cliBackupName);
    await s.pickQuickItem(cliBackupName);
    const web = s.webviewFrame();
    const summary = web.locator('.diff-summary');
    await s.waitUnlessError(summary, 'the compare summary', UI_TIMEOUT * 2, web.locator('#status.error'));
    const text = await summary.innerText();
    assert.match(text, /^\d+ added · \d+ removed · \d+ changed · \d+ unchanged$/, text);
    const sides = await web.locator('.compare .sides').innerText();
    assert.match(sides, new RegExp(escape(hostBackup)));
    assert.match(sides, new RegExp(escape(cliBackupName)));
    // Two backups of the same cluster: mostly the same entries.
    assert.ok(Number(/(\d+) unchanged/.exec(text)![1]) > 0, text);
  });
});

test('"Delete Backup" from the tree, confirmed in the modal, removes the file, its log and its record', async () => {
  assert.ok(hostRecord, 'needs the backup of the first test');
  await s.step('manage-delete', async () => {
    await s.clickActivityBar('UCP Backup');
    await s.treeContextMenu(hostBackup, 'Delete Backup');
    const del = s.modalButton(`Delete backup ${hostBackup}?`, 'Delete');
    await del.waitFor({ state: 'visible' });
    await del.click();
    await s.waitUnlessError(s.message(`Deleted ${hostBackup}.`), 'the deletion to finish');
    assert.ok(!existsSync(join(hostDir, hostBackup)), 'the archive is gone from the node');
    assert.ok(!existsSync(join(hostDir, hostRecord!.logFileName)), 'its log is gone from the node');
    const show = await cli(['show', hostRecord!.id, '--json']);
    assert.equal(show.code, 4, `ucp-backup show of the deleted record: exit ${show.code}\n${show.stdout}${show.stderr}`);
    await s.treeRowByLabel(hostBackup).waitFor({ state: 'detached' });
    await s.dismissNotifications();
  });
});

test('"UCP: Show Log" opens the "UCP Backup" output with the lines of the commands above', async () => {
  assert.ok(hostRecord, 'needs the backup of the first test');
  await s.step('manage-log', async () => {
    await s.runCommand('UCP: Show Log');
    const output = s.page.locator('.part.panel .monaco-editor .view-lines');
    // The last line written: the delete of the previous test (the output scrolls to the end).
    const line = `Deleted backup ${hostRecord!.id}`;
    // Monaco renders spaces as no-break spaces.
    const shown = async () => (await output.innerText().catch(() => '')).replace(/\u00a0/g, ' ');
    await poll(async () => (await shown()).includes(line), UI_TIMEOUT, `"${line}" in the output`);
    // The panel's channel picker names the channel in front.
    const picker = s.page.locator('.part.panel select.monaco-select-box').first();
    const channel = await picker.evaluate((el) => {
      const sel = el as unknown as { selectedIndex: number; options: { text: string }[] };
      return sel.options[sel.selectedIndex]?.text ?? '';
    });
    assert.match(channel, /UCP Backup/, `the output channel shown: ${channel}`);
  });
});

test('"UCP: Forget Passphrase", then verifying an encrypted backup asks for its passphrase again', async () => {
  assert.ok(hostRecord, 'needs the download of the first test');
  await s.step('manage-forget', async () => {
    await s.runCommand('UCP: Forget Passphrase');
    await s.waitUnlessError(s.message('Forgot the backup passphrase of demo.'), 'the passphrase to be forgotten');
    await s.dismissNotifications();
    await s.explorerContextMenu(downloaded, 'Verify Backup');
    const ask = s.quickInput().filter({ hasText: `Passphrase for ${downloaded}` });
    await s.waitUnlessError(ask, 'the passphrase prompt');
    await s.typeInQuickInput(PASSPHRASE);
    const verdict = s.webviewFrame().locator('[data-verdict]');
    await s.waitUnlessError(verdict, 'the verify report', UI_TIMEOUT * 2, s.webviewFrame().locator('#status.error'));
    assert.equal(await verdict.getAttribute('data-verdict'), 'VALID');
  });
});
