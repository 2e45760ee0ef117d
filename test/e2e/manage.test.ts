/**
 * The managing commands in real VS Code (code-server) + real Chromium, against the real test
 * cluster, driven like a person: a host-path Backup Now, then Download, Compare and Delete from
 * the tree's context menu, Show Log, and Forget Passphrase (the next verify asks again); then
 * Reveal File, a backup whose file is gone and Clear Failed Records (historyTidy.ts).
 * One code-server for the whole file, but every test stands alone: what a test needs besides
 * the UI under test (backups to download, compare or delete; a remembered passphrase) is made
 * for it by the helpers below, so one failure never fails the next test.
 * On failure artifacts go to test-results/e2e/<test>/.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { copyFileSync, createReadStream, existsSync, mkdirSync, readdirSync } from 'node:fs';
import { Agent } from 'node:http';
import { join } from 'node:path';
import Docker from 'dockerode';
import { deleteBackupFiles } from '../../src/core/docker/hostFiles';
import type { BackupRecord } from '../../src/core/history/record';
import { runCli } from '../helpers/cli';
import { CodeServerSession, TESTBED_CLUSTERS, UI_TIMEOUT, poll } from '../helpers/codeServer';
import { testbedManager } from '../helpers/testbed';
import { cleanupHistoryTidy, prepareHistoryTidy, registerAddClusterTests, registerHistoryTidyTests } from './historyTidy';
import { cleanupRetention, prepareRetention, registerOverdueTests, registerRetentionTests } from './retentionUi';

/** Typed into VS Code's password input boxes; to the CLI only on stdin. */
const PASSPHRASE = 'e2e-manage-passphrase-42';
const HOST_NODE = 'manager2';
const hostDir = testbedManager(HOST_NODE).backupDir;
const stamp = Date.now();
/** Made through the UI on manager2's host path (the Backup Now test and the passphrase helper). */
const uiBackups: string[] = [];
/** Made with the CLI on manager1's host path before the tests: what Download, Compare and Delete act on. */
const cliDir = testbedManager('manager1').backupDir;
const cliBackups = { download: `e2e-manage-cli-a-${stamp}.tar`, compare: `e2e-manage-cli-b-${stamp}.tar`, remove: `e2e-manage-cli-del-${stamp}.tar` };

let s: CodeServerSession;
/** Whether code-server's SecretStorage holds PASSPHRASE for the cluster (a UI backup said "Remember"; Forget clears it). */
let passphraseStored = false;

const escape = (t: string) => t.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

async function cli(args: string[], stdin?: string) {
  return runCli([...args.slice(0, 1), '--config', TESTBED_CLUSTERS, ...args.slice(1)], { stdin });
}

/** An encrypted host-path backup on manager1 with the CLI. */
async function cliHostBackup(name: string): Promise<void> {
  const r = await cli(['backup', '--node', 'manager1', '--engine', 'builtin', '--host-path', cliDir, '--name', name, '--passphrase-file', '-'], PASSPHRASE + '\n');
  if (r.code !== 0) throw new Error(`ucp-backup backup exited ${r.code}:\n${r.stderr}`);
}

async function recordByName(fileName: string): Promise<BackupRecord | undefined> {
  const r = await cli(['list', '--json']);
  if (r.code !== 0) throw new Error(`ucp-backup list exited ${r.code}:\n${r.stderr}`);
  return (JSON.parse(r.stdout) as BackupRecord[]).find((x) => x.fileName === fileName);
}

async function requireRecord(fileName: string): Promise<BackupRecord> {
  const record = await recordByName(fileName);
  assert.ok(record, `${fileName} has a record in the cluster history`);
  assert.equal(record.backupState, 'SUCCESS');
  return record;
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
  const made = (async () => {
    // One after the other: the cluster runs one backup at a time.
    for (const name of Object.values(cliBackups)) await cliHostBackup(name);
  })();
  // `s` is set as soon as code-server is up, so after() closes it even when a backup here failed.
  const started = CodeServerSession.start().then((session) => (s = session));
  // After the host backups: the cluster runs one backup at a time.
  const tidy = made.then(() => prepareHistoryTidy(started)).then(prepareRetention);
  // Both settled before failing, so a failed backup never leaves a browser running.
  for (const r of await Promise.allSettled([started, tidy])) if (r.status === 'rejected') throw r.reason;
});

after(async () => {
  await s?.close();
  await cleanupHistoryTidy();
  await cleanupRetention();
  // Leave no files or records behind: the CLI's backups, and the UI's (Delete removed one at most).
  for (const name of [...Object.values(cliBackups), ...uiBackups]) {
    const record = await recordByName(name).catch(() => undefined);
    if (!record) continue;
    // No keep-alive: dockerode's pooled socket would hold this file's process open for minutes.
    const options: Docker.DockerOptions & { agent: Agent } = { socketPath: testbedManager(record.nodeLocation).dockerSocketPath, agent: new Agent({ keepAlive: false }) };
    const docker = new Docker(options);
    await deleteBackupFiles(docker, record).catch((err) => console.error(`e2e: could not delete ${name}:`, err));
  }
});

/** "UCP: Backup Now" to a host path on manager2, answering the prompts as they come; the toast's text. */
async function hostPathBackupViaPalette(fileName: string): Promise<string> {
  uiBackups.push(fileName);
  await s.runCommand('UCP: Backup Now');
  const result = s.backupResultToast();
  await s.answerPrompts(result, 'Backup Now', async (title) => {
    if (title === 'Manager node') await s.pickQuickItem(HOST_NODE);
    else if (title === 'Backup destination') await s.pickQuickItem(`Host path on ${HOST_NODE}`);
    else if (title === `Folder on ${HOST_NODE}`) await s.typeInQuickInput(hostDir);
    else if (title === 'Backup file name') await s.typeInQuickInput(fileName);
    else if (/^Backup passphrase for cluster demo/.test(title)) await s.typeInQuickInput(PASSPHRASE);
    else if (/^Confirm the backup passphrase/.test(title)) await s.typeInQuickInput(PASSPHRASE);
    else if (title === 'Remember the passphrase?') {
      await s.pickQuickItem('Remember passphrase');
      passphraseStored = true;
    } else if (title === 'Backup log') await s.pickQuickItem('Include the backup log');
    else return false;
    return true;
  });
  const text = (await result.innerText()).replace(/\s+/g, ' ');
  await s.dismissNotifications();
  return text;
}

/** For the tests that need the passphrase in SecretStorage: a UI backup that remembers it, unless one did already. */
async function ensurePassphraseStored(): Promise<void> {
  if (passphraseStored) return;
  const text = await hostPathBackupViaPalette(`e2e-manage-remember-${Date.now()}.tar`);
  assert.match(text, /completed/, text);
  assert.ok(passphraseStored, 'the backup asked whether to remember the passphrase');
}

/** The tree row of a backup, once the history shows it as SUCCESS. */
async function backupRow(fileName: string) {
  await s.clickActivityBar('UCP Backup');
  const row = s.treeRowByLabel(fileName);
  await poll(async () => /— SUCCESS/.test((await row.getAttribute('aria-label').catch(() => null)) ?? ''), UI_TIMEOUT, `tree row ${fileName} with state SUCCESS`);
  return row;
}

test('a host-path Backup Now on manager2 writes the archive and its log there and records SUCCESS', async () => {
  await s.step('manage-backup', async () => {
    const name = `e2e-manage-host-${stamp}.tar`;
    const text = await hostPathBackupViaPalette(name);
    assert.match(text, new RegExp(`UCP backup ${escape(name)} completed on ${HOST_NODE}`));
    assert.ok(existsSync(join(hostDir, name)), `the archive is in ${hostDir} on ${HOST_NODE}`);
    const record = await requireRecord(name);
    assert.equal(record.location, 'host');
    assert.equal(record.nodeLocation, HOST_NODE);
    assert.ok(record.logFileName && existsSync(join(hostDir, record.logFileName)), 'the backup log is beside the archive');
    // Which engine ran is said where the admin looks: the result, the row, the node.
    assert.ok(record.engine, 'the record names its engine');
    const engine = record.engine === 'official' ? 'official image' : 'built-in';
    assert.match(text, new RegExp(`\\(engine: ${engine}\\)`), text);
    const row = await backupRow(name);
    assert.match((await row.getAttribute('aria-label')) ?? '', new RegExp(`Engine: ${engine}`));
    const node = s.treeRowByLabel(HOST_NODE);
    await node.waitFor({ state: 'visible' });
    assert.match((await node.getAttribute('aria-label')) ?? '', record.engine === 'official' ? /Backup engine: official \S+/ : /Backup engine: built-in/);
  });
});

test('"Download Backup" from the tree saves under the typed name, with the recorded SHA-256', async () => {
  await s.step('manage-download', async () => {
    const name = cliBackups.download;
    const record = await requireRecord(name);
    await backupRow(name);
    await s.treeContextMenu(name, 'Download Backup');
    // The save dialog proposes the backup's own name in the workspace; the person types another.
    const target = join(s.workspace, `e2e-manage-download-${stamp}.tar`);
    await s.typeInFileDialog(target, `Download ${name}`, join(s.workspace, name));
    await s.waitUnlessError(s.message(`Downloaded ${name} to ${target}.`), `the download to ${target}`);
    assert.ok(existsSync(target), 'the downloaded file is in the workspace under the typed name');
    assert.ok(!existsSync(join(s.workspace, name)), 'nothing was saved under the proposed name');
    assert.equal(await sha256Of(target), record.sha256, 'SHA-256 of the download = the record');
    await s.dismissNotifications();
  });
});

test('"Compare Backups" from the tree shows the added / removed / changed counts', async () => {
  await s.step('manage-compare', async () => {
    const [a, b] = [cliBackups.download, cliBackups.compare];
    await backupRow(a);
    await s.treeContextMenu(a, 'Compare Backups');
    const pick = s.quickInput().filter({ hasText: 'Compare with which backup?' });
    await s.waitUnlessError(pick, 'the pick of the other backup');
    await s.quickInput().locator('input').fill(b);
    await s.pickQuickItem(b);
    // The passphrase is asked for each side unless it is stored.
    for (let i = 0; i < 2; i++) {
      const ask = s.quickInput().filter({ hasText: /^Passphrase for / });
      const summary = s.webviewFrame().locator('.diff-summary');
      await poll(async () => (await summary.isVisible().catch(() => false)) || (await ask.isVisible().catch(() => false)), UI_TIMEOUT * 2, 'the compare summary or a passphrase prompt');
      if (!(await ask.isVisible().catch(() => false))) break;
      await s.typeInQuickInput(PASSPHRASE);
    }
    const web = s.webviewFrame();
    const summary = web.locator('.diff-summary');
    await s.waitUnlessError(summary, 'the compare summary', UI_TIMEOUT * 2, web.locator('#status.error'));
    const text = await summary.innerText();
    assert.match(text, /^\d+ added · \d+ removed · \d+ changed · \d+ unchanged$/, text);
    const sides = await web.locator('.compare .sides').innerText();
    assert.match(sides, new RegExp(escape(a)));
    assert.match(sides, new RegExp(escape(b)));
    // Two backups of the same cluster: mostly the same entries.
    assert.ok(Number(/(\d+) unchanged/.exec(text)![1]) > 0, text);
  });
});

test('"Copy Backup To…" a folder: the archive is copied, read back against its SHA-256, and listed in the record and the row', async () => {
  await s.step('manage-copy', async () => {
    const name = cliBackups.compare;
    const record = await requireRecord(name);
    const dest = join(s.dir, 'offsite');
    mkdirSync(dest);
    await backupRow(name);
    await s.treeContextMenu(name, 'Copy Backup To…');
    await s.typeInQuickInput(dest, /An SFTP server/);
    await s.waitUnlessError(s.message(`Copied ${name} to ${dest}/${name}: read back, SHA-256 checked.`), 'the copy to finish');
    assert.equal(await sha256Of(join(dest, name)), record.sha256, 'the copy is the archive');
    assert.deepEqual(readdirSync(dest), [name], 'no temp file is left beside it');
    const after = (await requireRecord(name)) as BackupRecord & { copies?: { location: string; sha256: string }[] };
    assert.deepEqual(after.copies?.map((c) => [c.location, c.sha256]), [[join(dest, name), record.sha256]]);
    const row = await backupRow(name);
    await poll(async () => ((await row.getAttribute('aria-label')) ?? '').includes(`Copy: ${join(dest, name)} (read back and checked`), UI_TIMEOUT, 'the row to list the copy');
    // The copy is a child row of its backup.
    await row.locator('.monaco-tl-twistie').click();
    const child = s.treeRowByLabel(join(dest, name));
    await child.waitFor({ state: 'visible' });
    assert.match((await child.locator('.label-description').innerText()).trim(), /^copy · read back and checked /);
    await s.dismissNotifications();
  });
});

test('"Delete Backup" from the tree, confirmed in the modal, removes the file, its log and its record', async () => {
  await s.step('manage-delete', async () => {
    const name = cliBackups.remove;
    const record = await requireRecord(name);
    assert.ok(existsSync(join(cliDir, name)), 'the archive is there before');
    await backupRow(name);
    await s.treeContextMenu(name, 'Delete Backup');
    const del = s.modalButton(`Delete backup ${name}?`, 'Delete');
    await del.waitFor({ state: 'visible' });
    await del.click();
    await s.waitUnlessError(s.message(`Deleted ${name}.`), 'the deletion to finish');
    assert.ok(!existsSync(join(cliDir, name)), 'the archive is gone from the node');
    if (record.logFileName) assert.ok(!existsSync(join(cliDir, record.logFileName)), 'its log is gone from the node');
    const show = await cli(['show', record.id, '--json']);
    assert.equal(show.code, 4, `ucp-backup show of the deleted record: exit ${show.code}\n${show.stdout}${show.stderr}`);
    await s.treeRowByLabel(name).waitFor({ state: 'detached' });
    await s.dismissNotifications();
  });
});

test('"UCP: Forget Passphrase", then verifying an encrypted backup asks for its passphrase again', async () => {
  await s.step('manage-forget', async () => {
    await ensurePassphraseStored();
    // An encrypted archive of this cluster in the workspace, as a download would leave it.
    const file = `e2e-manage-forget-${stamp}.tar`;
    copyFileSync(join(cliDir, cliBackups.compare), join(s.workspace, file));
    await s.runCommand('UCP: Forget Passphrase');
    await s.waitUnlessError(s.message('Forgot the backup passphrase of demo.'), 'the passphrase to be forgotten');
    passphraseStored = false;
    await s.dismissNotifications();
    await s.explorerContextMenu(file, 'Verify Backup');
    const ask = s.quickInput().filter({ hasText: `Passphrase for ${file}` });
    await s.waitUnlessError(ask, 'the passphrase prompt');
    await s.typeInQuickInput(PASSPHRASE);
    const verdict = s.webviewFrame().locator('[data-verdict]');
    await s.waitUnlessError(verdict, 'the verify report', UI_TIMEOUT * 2, s.webviewFrame().locator('#status.error'));
    assert.equal(await verdict.getAttribute('data-verdict'), 'VALID');
  });
});

test('"UCP: Show Log" opens the "UCP Backup" output with the line of the last command', async () => {
  await s.step('manage-log', async () => {
    // A command whose log line is known: Forget Passphrase says what it did (stored or not).
    await s.runCommand('UCP: Forget Passphrase');
    await s.waitUnlessError(s.message(/passphrase (of|was stored for) demo/), 'the answer of Forget Passphrase');
    passphraseStored = false;
    await s.dismissNotifications();
    await s.runCommand('UCP: Show Log');
    const output = s.page.locator('.part.panel .monaco-editor .view-lines');
    const line = /(Forgot the stored backup passphrase of demo|No backup passphrase was stored for demo)\./;
    // Monaco renders spaces as no-break spaces; the output scrolls to the end.
    const shown = async () => (await output.innerText().catch(() => '')).replace(/\u00a0/g, ' ');
    await poll(async () => line.test(await shown()), UI_TIMEOUT, `${line} in the output`);
    // The panel's channel picker names the channel in front.
    const picker = s.page.locator('.part.panel select.monaco-select-box').first();
    const channel = await picker.evaluate((el) => {
      const sel = el as unknown as { selectedIndex: number; options: { text: string }[] };
      return sel.options[sel.selectedIndex]?.text ?? '';
    });
    assert.match(channel, /UCP Backup/, `the output channel shown: ${channel}`);
  });
});

// Issue 15's scenarios in this session: Reveal File, a backup whose file is gone, Clear Failed Records.
registerHistoryTidyTests(() => s);
registerRetentionTests(() => s);
registerOverdueTests(() => s);
registerAddClusterTests(() => s);
