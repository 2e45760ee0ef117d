/**
 * Scenarios of issue 15 ("the first hour") run in manage.test.ts's code-server session: Reveal
 * File in the browser, a backup whose file is gone ("file missing", opened in words, Forget
 * Backup), and Clear Failed Records. What each needs is made by `prepareHistoryTidy` (the real
 * CLI, into the session's own local history) while code-server starts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Agent } from 'node:http';
import Docker from 'dockerode';
import { removeClusterRecord } from '../../src/core/history/clusterHistory';
import type { BackupRecord } from '../../src/core/history/record';
import { ROOT, runCli } from '../helpers/cli';
import { TESTBED_CLUSTERS, UI_TIMEOUT, poll, type CodeServerSession } from '../helpers/codeServer';
import { testbedManager } from '../helpers/testbed';

const stamp = Date.now();
export const TIDY = {
  reveal: `e2e-reveal-${stamp}.tar`,
  missing: `e2e-missing-${stamp}.tar`,
  failed: `e2e-failed-${stamp}.tar`,
};

/** The encrypted local backup's passphrase: on the CLI's stdin, typed into VS Code. */
const TIDY_PASSPHRASE = 'e2e-tidy-passphrase-77';

async function cli(args: string[], env?: NodeJS.ProcessEnv, stdin?: string) {
  return runCli([...args.slice(0, 1), '--config', TESTBED_CLUSTERS, ...args.slice(1)], { env, stdin });
}

async function records(): Promise<BackupRecord[]> {
  const r = await cli(['list', '--json']);
  if (r.code !== 0) throw new Error(`ucp-backup list exited ${r.code}:\n${r.stderr}`);
  return JSON.parse(r.stdout) as BackupRecord[];
}

/**
 * Local backups of manager1 into the session's workspace, recorded in its local history (as
 * the extension there would have), and one run that fails for a real reason: a host path
 * that does not exist on the node.
 */
export async function prepareHistoryTidy(session: Promise<CodeServerSession>): Promise<void> {
  const s = await session;
  const env = { UCP_BACKUP_STATE_DIR: join(s.dir, 'state') };
  // Encrypted with its log (so the log is encrypted too); then a plain one.
  const revealArgs = ['--passphrase-file', '-', '--include-logs'];
  for (const [name, extra] of [[TIDY.reveal, revealArgs], [TIDY.missing, ['--no-passphrase']]] as const) {
    const r = await cli(['backup', '--node', 'manager1', '--engine', 'builtin', '--file', join(s.workspace, name), ...extra], env, extra === revealArgs ? TIDY_PASSPHRASE + '\n' : undefined);
    if (r.code !== 0) throw new Error(`ucp-backup backup exited ${r.code}:\n${r.stderr}`);
  }
  const bad = await cli(['backup', '--node', 'manager1', '--engine', 'builtin', '--host-path', `/nonexistent/ucp-e2e-${stamp}`, '--name', TIDY.failed, '--no-passphrase'], env);
  if (bad.code === 0) throw new Error('a backup to a folder that does not exist succeeded');
}

/** Removes the records the scenarios made and left (the files are in the session's workspace, removed with it). */
export async function cleanupHistoryTidy(): Promise<void> {
  const mine = (await records().catch(() => [])).filter((r) => (Object.values(TIDY) as string[]).includes(r.fileName));
  if (!mine.length) return;
  // No keep-alive: a pooled socket would hold this file's process open.
  const options: Docker.DockerOptions & { agent: Agent } = { socketPath: testbedManager('manager1').dockerSocketPath, agent: new Agent({ keepAlive: false }) };
  const docker = new Docker(options);
  for (const r of mine) await removeClusterRecord(docker, r.id).catch((err) => console.error(`e2e: could not remove record ${r.id}:`, err));
}

export function registerHistoryTidyTests(session: () => CodeServerSession): void {
  test('"Reveal file" in code-server reveals the backup in the Explorer (the browser has no file manager)', async () => {
    const s = session();
    await s.step('tidy-reveal', async () => {
      await s.clickActivityBar('UCP Backup');
      const row = s.treeRowByLabel(TIDY.reveal);
      await row.waitFor({ state: 'visible' });
      await row.click();
      const reveal = s.webviewFrame().locator('#reveal');
      await reveal.waitFor({ state: 'visible' });
      await reveal.click();
      const fileRow = s.page.locator('.explorer-folders-view .monaco-list-row').filter({ hasText: TIDY.reveal }).first();
      await s.waitUnlessError(fileRow, 'the Explorer to show the backup file');
      await poll(async () => (await fileRow.getAttribute('aria-selected')) === 'true', UI_TIMEOUT, `${TIDY.reveal} selected in the Explorer`);
    });
  });

  test('the status bar shows the last backup of the cluster and its age; it opens the UCP Backup view', async () => {
    const s = session();
    await s.step('tidy-status-bar', async () => {
      await s.clickActivityBar('Explorer');
      const item = s.page.locator('.part.statusbar .statusbar-item', { hasText: /demo: (just now|\d+ (second|minute|hour)s? ago)/ }).first();
      await s.waitUnlessError(item, 'the status bar item with the last backup of demo');
      await item.click();
      await s.page.locator('.part.sidebar .composite.title', { hasText: /UCP Backup/i }).waitFor({ state: 'visible' });
    });
  });

  test('the walkthrough "Back up a UCP cluster" opens from the palette with its steps, from Add a cluster to Verify a backup', async () => {
    const s = session();
    await s.step('tidy-walkthrough', async () => {
      await s.runCommand('Welcome: Open Walkthrough...');
      await s.pickQuickItem('Back up a UCP cluster');
      const page = s.page.locator('.gettingStartedContainer');
      await s.waitUnlessError(page.locator('.getting-started-step', { hasText: 'Add a cluster' }).first(), 'the walkthrough\'s first step');
      for (const title of ['Back up now', 'Look at a backup', 'Verify a backup']) await page.locator('.getting-started-step', { hasText: title }).first().waitFor({ state: 'attached' });
      await s.page.keyboard.press('Control+W');
    });
  });

  test('a junk file right-clicked for Verify gets an INVALID report that says what it is', async () => {
    const s = session();
    await s.step('tidy-junk-verify', async () => {
      const junk = `e2e-junk-${stamp}.tar`;
      writeFileSync(join(s.workspace, junk), 'not a backup at all\n'.repeat(100));
      await s.explorerContextMenu(junk, 'Verify Backup');
      const verdict = s.webviewFrame().locator('[data-verdict]');
      await s.waitUnlessError(verdict, 'the INVALID report', UI_TIMEOUT);
      assert.equal(await verdict.getAttribute('data-verdict'), 'INVALID');
      assert.match(await s.webviewFrame().locator('table.checks').innerText(), /neither OpenPGP nor tar data/);
      await s.dismissNotifications();
    });
  });

  test('"Show log" in a backup\'s details opens that backup\'s own log, decrypted with its passphrase', async () => {
    const s = session();
    await s.step('tidy-log', async () => {
      const record = (await records()).find((r) => r.fileName === TIDY.reveal);
      assert.ok(record?.logFileName, 'the backup was made with its log');
      const onDisk = readFileSync(join(s.workspace, record.logFileName));
      assert.notEqual(onDisk[0], '2'.charCodeAt(0), 'the log file on disk is encrypted, not text');
      await s.clickActivityBar('UCP Backup');
      await s.treeRowByLabel(TIDY.reveal).click();
      const show = s.webviewFrame().locator('#show-log');
      await show.waitFor({ state: 'visible' });
      await show.click();
      // The cluster's stored passphrase (if a test remembered one) is tried first and is not this one.
      const ask = s.quickInput().filter({ hasText: `Passphrase for ${record.logFileName}` });
      await s.waitUnlessError(ask, 'the passphrase prompt for the log');
      await s.typeInQuickInput(TIDY_PASSPHRASE);
      const tab = s.page.locator('.tabs-container .tab', { hasText: record.logFileName });
      await s.waitUnlessError(tab, 'the log in an editor tab');
      const editor = s.page.locator('.editor-instance .monaco-editor .view-lines').first();
      const shown = async () => (await editor.innerText().catch(() => '')).replace(/\u00a0/g, ' ');
      await poll(async () => /\[validation\] Checking manager1/.test(await shown()), UI_TIMEOUT, 'the log\'s first step in the editor');
      assert.match(await shown(), /\[write\] Wrote /);
      await s.page.keyboard.press('Control+W');
    });
  });

  test('a local backup whose file is gone reads "file missing", opens in words (no ENOENT), and "Forget Backup" drops its record only', async () => {
    const s = session();
    await s.step('tidy-missing', async () => {
      const before = (await records()).find((r) => r.fileName === TIDY.missing);
      assert.ok(before, 'the CLI recorded the backup');
      rmSync(join(s.workspace, TIDY.missing));
      await s.clickActivityBar('UCP Backup');
      await s.viewTitleAction('Refresh').click();
      const row = s.treeRowByLabel(TIDY.missing);
      await poll(async () => /^file missing · /.test((await row.locator('.label-description').innerText().catch(() => '')).trim()), UI_TIMEOUT, `${TIDY.missing} marked "file missing"`);
      assert.equal(await row.locator('.codicon-warning').count(), 1, 'a warning, not the green check');
      await row.click();
      const web = s.webviewFrame();
      await web.locator('tr[data-field="fileName"]').waitFor({ state: 'visible' });
      await web.locator('#verify').click();
      const status = web.locator('#status.error');
      await s.waitUnlessError(status, 'the panel to say the file is gone');
      const text = await status.innerText();
      assert.match(text, /is not at .* on this machine: it was moved or deleted/);
      assert.doesNotMatch(text, /ENOENT|no such file/i);

      await s.treeContextMenu(TIDY.missing, 'Forget Backup');
      const forget = s.modalButton(`Forget backup ${TIDY.missing}?`, 'Forget');
      await forget.waitFor({ state: 'visible' });
      await forget.click();
      await s.waitUnlessError(s.message(`Forgot ${TIDY.missing}.`), 'the record to be forgotten');
      await row.waitFor({ state: 'detached' });
      assert.equal((await records()).find((r) => r.id === before.id), undefined, 'the record is gone from the cluster history');
      assert.ok(existsSync(join(s.workspace, TIDY.reveal)), 'no other file was touched');
      await s.dismissNotifications();
    });
  });

  test('a failed run says what to do; "Clear Failed Records" from the Backups row drops every failed record of the cluster, no file', async () => {
    const s = session();
    await s.step('tidy-clear-failed', async () => {
      const failedBefore = (await records()).filter((r) => r.backupState === 'FAILED');
      assert.ok(failedBefore.some((r) => r.fileName === TIDY.failed), 'the failed run is recorded');
      await s.clickActivityBar('UCP Backup');
      await s.viewTitleAction('Refresh').click();
      const row = s.treeRowByLabel(TIDY.failed);
      await row.waitFor({ state: 'visible' });
      assert.match((await row.locator('.label-description').innerText()).trim(), /^FAILED: /);
      assert.match((await row.getAttribute('aria-label')) ?? '', /What to do: /);

      await s.treeContextMenu('Backups', 'Clear Failed Records');
      const clear = s.modalButton(/Clear \d+ failed backup records? of demo\?/, 'Clear');
      await clear.waitFor({ state: 'visible' });
      await clear.click();
      await s.waitUnlessError(s.message(/Cleared \d+ failed backup records? of demo\./), 'the failed records to be cleared');
      await row.waitFor({ state: 'detached' });
      const after = await records();
      assert.deepEqual(after.filter((r) => r.backupState === 'FAILED').map((r) => r.id), [], 'no failed record is left');
      assert.ok(after.some((r) => r.fileName === TIDY.reveal && r.backupState === 'SUCCESS'), 'successful records stay');
      await s.dismissNotifications();
    });
  });
}

/**
 * An open dialog (code-server's simple file dialog): the path typed, then its own button, so a
 * list row the pointer rests on (from the dialog before) is not what Enter picks.
 */
async function openInFileDialog(s: CodeServerSession, title: string, path: string, button: string): Promise<void> {
  const widget = s.quickInput().filter({ has: s.page.locator('.quick-input-title', { hasText: title }) });
  const input = widget.locator('input');
  await input.waitFor({ state: 'visible' });
  await s.page.mouse.move(1, 1);
  await input.fill(path);
  assert.equal(await input.inputValue(), path);
  await widget.locator('.monaco-button', { hasText: button }).click();
  await poll(async () => !(await widget.isVisible().catch(() => false)), UI_TIMEOUT, `the ${title} dialog to accept ${path}`);
}

/**
 * Add Cluster for the swarm the session already has as "demo" (reached through manager1 as a
 * newcomer would type it): the connection test passes, then the swarm is refused by its ID.
 */
export function registerAddClusterTests(session: () => CodeServerSession): void {
  test('"Add Cluster" refuses a swarm that is already configured (its backups would be listed twice), and saves nothing', async () => {
    const s = session();
    await s.step('tidy-add-same-swarm', async () => {
      const tb = JSON.parse(readFileSync(join(ROOT, '.testbed', 'testbed.json'), 'utf8')) as { ssh: { identityFile: string; knownHostsFile: string } };
      const m1 = testbedManager('manager1');
      await s.runCommand('UCP: Add Cluster');
      const refused = s.message('This swarm is already configured as cluster demo.');
      const title = 'Add a manager of again';
      await s.answerPrompts(refused, 'Add Cluster', async (t) => {
        if (t === 'Add UCP cluster') await s.typeInQuickInput('again');
        else if (t === 'How is again reached?') await s.pickQuickItem('SSH to a manager node');
        // Offered when this machine has ~/.ssh/config hosts or ssh:// Docker contexts.
        else if (t === `${title}: SSH destination`) await s.pickQuickItem('Type an SSH destination…');
        else if (t === title) await s.typeInQuickInput(`root@${m1.host}:${m1.sshPort}`);
        else if (t === `${title}: authentication`) await s.pickQuickItem('Private key file…');
        else if (t === 'SSH private key') await openInFileDialog(s, t, tb.ssh.identityFile, 'Use this key');
        else if (t === `${title}: known_hosts`) await s.pickQuickItem('Other known_hosts file…');
        else if (t === 'known_hosts file') await openInFileDialog(s, t, tb.ssh.knownHostsFile, 'Use this known_hosts');
        else if (t === `${title}: Docker socket`) await s.typeInQuickInput('/var/run/docker.sock');
        else return false;
        return true;
      });
      assert.match(await refused.innerText(), /Swarm ID \w+/);
      await s.page.keyboard.press('Escape');
      await refused.waitFor({ state: 'hidden' });
      await s.clickActivityBar('UCP Backup');
      assert.equal(await s.treeRowByLabel('again').count(), 0, 'no second cluster in the tree');
      const settings = JSON.parse(readFileSync(join(s.userDataDir, 'User', 'settings.json'), 'utf8')) as { 'ucpBackup.clusters': { name: string }[] };
      assert.deepEqual(settings['ucpBackup.clusters'].map((c) => c.name), ['demo'], 'nothing was saved');
    });
  });
}
