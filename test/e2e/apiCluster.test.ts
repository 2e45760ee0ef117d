/**
 * A cluster reached through the UCP API alone, in real VS Code (code-server) and real Chromium,
 * against the UCP API FIXTURE (test/fixtures/ucpApiServer.ts: written from the spec, not UCP)
 * over real TLS on 127.0.0.1 with a throwaway CA made by openssl: Add Cluster by URL and login
 * with the CA's fingerprint consent, its backups in the tree (source, FAILED with its error),
 * Backup Now through POST /api/ucp/backup — running in the tree, an expired token renewed while
 * polling, SUCCESS; a wrong password at Add Cluster, a second backup while one runs, one that ends
 * FAILED with UCP's shortError, a cancel that stops only the waiting (UCP goes on, the tree shows it end), a cluster by client bundle zip — a malformed answer as one clear error, and a changed CA refused before any password is sent. The password and the
 * passphrase never reach the settings or the logs. No SSH and no sandbox cluster involved.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ZERO_TIME } from '../../src/core/history/record';
import { makeUcpServerTls } from '../fixtures/api/selfSignedCert';
import { startUcpApiFixture, type RunnerResult, type UcpApiFixture } from '../fixtures/ucpApiServer';
import { CodeServerSession, UI_TIMEOUT, poll } from '../helpers/codeServer';

const CLUSTER = 'apiprod';
const PASSWORD = 'e2e-ucp-password-MARKER-7f3a';
const PASSPHRASE = 'e2e-api-passphrase-MARKER-91';
const NODE = 'ucp-fixture-manager1';
const stamp = Date.now();

let fx: UcpApiFixture;
let s: CodeServerSession;
/** admin's client bundle, issued by the fixture's client root CA. */
let bundle: { ca: string; cert: string; key: string };
/** The fixture's runner waits for this, so the test sees the backup running before it ends. */
let release: (r: RunnerResult) => void = () => undefined;

before(async () => {
  fx = await startUcpApiFixture({
    users: { admin: { password: PASSWORD, admin: true } },
    nodeLocation: NODE,
    runner: () => new Promise<RunnerResult>((resolve) => (release = resolve)),
  });
  const base = { encrypted: true, logFileName: '', backupPath: '/var/backups/ucp', nodeLocation: NODE, created_at: '2026-01-01T10:00:00Z', completed_at: '2026-01-01T10:03:00Z' };
  bundle = fx.issueClientBundle('admin');
  fx.records.set('seed-ok', { ...base, id: 'seed-ok', fileName: 'e2e-api-seed-ok.tar', backupState: 'SUCCESS', shortError: '' });
  fx.records.set('seed-failed', { ...base, id: 'seed-failed', fileName: 'e2e-api-seed-failed.tar', backupState: 'FAILED', shortError: 'folder not owned by nobody', created_at: '2026-01-01T09:00:00Z' });
  s = await CodeServerSession.start({ clusters: [] });
});

after(async () => {
  release({ state: 'SUCCESS' });
  await s?.close();
  await fx?.close();
});

/** A tree row's accessible text: label, then description (what a screen reader says). */
const rowText = async (label: string) => (await s.treeRowByLabel(label).innerText().catch(() => '')).replace(/\s+/g, ' ');

function filesUnder(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...filesUnder(p));
    else if (statSync(p).size < 20 * 1024 * 1024) out.push(p);
  }
  return out;
}

test('Add Cluster by URL and login (CA consent with its SHA-256) and by bundle zip, backups listed, Backup Now through the API (running, refused while one runs, SUCCESS, FAILED), a malformed answer, a changed CA refused', async () => {
  const fingerprint = new X509Certificate(fx.caPem).fingerprint256;
  const host = new URL(fx.url).host;

  await s.step('api-add-cluster', async () => {
    await s.clickActivityBar('UCP Backup');
    await s.runCommand('UCP: Add Cluster');
    const consent = s.modalButton(/is not trusted yet/, 'Trust This CA');
    await s.answerPrompts(consent, 'Add Cluster', async (title) => {
      if (title === 'Add UCP cluster') await s.typeInQuickInput(CLUSTER);
      else if (title === `How is ${CLUSTER} reached?`) await s.pickQuickItem('UCP URL and login');
      else if (title === `Add ${CLUSTER}: UCP URL`) await s.typeInQuickInput(fx.url);
      else if (title === `Add ${CLUSTER}: UCP user`) await s.typeInQuickInput('admin');
      else if (title === 'UCP password of admin') await s.typeInQuickInput(PASSWORD);
      else return false;
      return true;
    });
    const dialog = await s.page.locator('.monaco-dialog-box').innerText();
    assert.match(dialog, new RegExp(`UCP at ${host.replace(/\./g, '\\.')} is not trusted yet`));
    assert.ok(dialog.includes(fingerprint), `the dialog shows the CA's SHA-256 ${fingerprint}:\n${dialog}`);
    assert.equal(fx.requests.filter((r) => r.route === 'login').length, 0, 'no password is sent before the CA is trusted');
    await consent.click();
    await s.waitUnlessError(s.message(`Cluster ${CLUSTER} added: the UCP API at ${host} answers (2 backups listed).`), 'the cluster to be added');
    const settings = JSON.parse(readFileSync(join(s.userDataDir, 'User', 'settings.json'), 'utf8')) as { 'ucpBackup.clusters': unknown[] };
    assert.deepEqual(settings['ucpBackup.clusters'], [{ name: CLUSTER, nodes: [], ucpUrl: new URL(fx.url).origin, ucpAuth: 'login', ucpUsername: 'admin' }]);
    await s.dismissNotifications();
  });

  await s.step('api-login-failure', async () => {
    // Same UCP (its CA is pinned now: no second consent), a wrong password: the test says so, nothing is saved.
    await s.runCommand('UCP: Add Cluster');
    const failed = s.message(/The connection test failed: UCP rejected the login of "admin" \(401\)\. Check the user name and the password/);
    await s.answerPrompts(failed, 'Add Cluster', async (title) => {
      if (title === 'Add UCP cluster') await s.typeInQuickInput('apibad');
      else if (title === 'How is apibad reached?') await s.pickQuickItem('UCP URL and login');
      else if (title === 'Add apibad: UCP URL') await s.typeInQuickInput(fx.url);
      else if (title === 'Add apibad: UCP user') await s.typeInQuickInput('admin');
      else if (title === 'UCP password of admin') await s.typeInQuickInput('wrong-password-of-admin');
      else return false;
      return true;
    });
    await s.page.locator('.monaco-dialog-box .monaco-button', { hasText: 'Cancel' }).first().click();
    await failed.waitFor({ state: 'hidden' });
    const settings = JSON.parse(readFileSync(join(s.userDataDir, 'User', 'settings.json'), 'utf8')) as { 'ucpBackup.clusters': { name: string }[] };
    assert.deepEqual(settings['ucpBackup.clusters'].map((c) => c.name), [CLUSTER]);
  });

  await s.step('api-tree', async () => {
    await s.clickActivityBar('UCP Backup');
    await poll(async () => /UCP API/.test(await rowText('e2e-api-seed-ok.tar')), UI_TIMEOUT, 'the API backups in the tree');
    assert.match(await rowText('e2e-api-seed-ok.tar'), new RegExp(NODE));
    assert.match(await rowText('e2e-api-seed-failed.tar'), /FAILED: folder not owned by nobody.*UCP API/);
    assert.match(await rowText(`UCP API at ${host}`), /login as admin/);
  });

  await s.step('api-backup-now', async () => {
    const name = `e2e-api-backup-${stamp}.tar`;
    await s.runCommand('UCP: Backup Now');
    const row = s.treeRowByLabel(name);
    await s.answerPrompts(row, 'Backup Now', async (title) => {
      if (title === `Folder on the managers of ${CLUSTER}`) await s.typeInQuickInput('/var/backups/ucp');
      else if (title === 'Backup file name') await s.typeInQuickInput(name);
      else if (title === `Backup passphrase for cluster ${CLUSTER}`) await s.typeInQuickInput(PASSPHRASE);
      else if (title === `Confirm the backup passphrase for cluster ${CLUSTER}`) await s.typeInQuickInput(PASSPHRASE);
      else if (title === 'Remember the passphrase?') await s.pickQuickItem('Remember passphrase');
      else if (title === 'Backup log') await s.pickQuickItem('Include the backup log');
      else return false;
      return true;
    });
    // Running: the tree shows it in progress, UCP's record has the zero time.
    await poll(async () => /in progress/.test(await rowText(name)), UI_TIMEOUT, `${name} in progress in the tree`);
    const running = [...fx.records.values()].find((r) => r.fileName === name);
    assert.ok(running && running.backupState === 'IN_PROGRESS' && running.completed_at === ZERO_TIME);
    assert.deepEqual(fx.createBodies.at(-1), { fileName: name, hostPath: '/var/backups/ucp', includeLogs: true, passphrase: PASSPHRASE });
    await s.page.locator('.part.statusbar').filter({ hasText: `UCP backup of ${CLUSTER}` }).waitFor({ state: 'visible' });
    // A second Backup Now while it runs: UCP's message, and what to do.
    await s.runCommand('UCP: Backup Now');
    const refused = s.errorToasts().filter({ hasText: 'another backup is running' }).first();
    await s.answerPrompts(refused, 'Backup Now (second)', async (title) => {
      if (title === `Folder on the managers of ${CLUSTER}`) await s.typeInQuickInput('/var/backups/ucp');
      else if (title === 'Backup file name') await s.typeInQuickInput(`e2e-api-second-${stamp}.tar`);
      else if (title === 'Backup log') await s.pickQuickItem('No log');
      else return false;
      return true;
    });
    assert.match((await refused.innerText()).replace(/\s+/g, ' '), /UCP backup failed: UCP refused the backup: backup failed: another backup is running\. Only one backup may run at a time: wait until the running one in the Backups list ends/);
    // Clear it, so the wait below sees this backup's own outcome (the first is still polling behind).
    await s.dismissNotifications();
    // UCP's session expires mid-run: the next poll's 401 is answered by one login with the stored password.
    const logins = fx.requests.filter((r) => r.route === 'login').length;
    fx.expireTokens();
    const polls = fx.requests.filter((r) => r.route === 'get').length;
    await poll(async () => fx.requests.filter((r) => r.route === 'get').length > polls + 1, UI_TIMEOUT, 'two more polls');
    release({ state: 'SUCCESS' });
    await s.waitUnlessError(s.message(`UCP backup ${name} completed on ${NODE} (through the UCP API).`), 'the API backup to complete');
    assert.equal(fx.requests.filter((r) => r.route === 'login').length, logins + 1, 'one login renewed the expired token');
    await poll(async () => /— SUCCESS/.test((await s.treeRowByLabel(name).getAttribute('aria-label').catch(() => null)) ?? ''), UI_TIMEOUT, `${name} SUCCESS in the tree`);
    await s.dismissNotifications();
  });

  await s.step('api-backup-failed', async () => {
    const name = `e2e-api-failed-${stamp}.tar`;
    await s.runCommand('UCP: Backup Now');
    await s.answerPrompts(s.treeRowByLabel(name), 'Backup Now', async (title) => {
      if (title === `Folder on the managers of ${CLUSTER}`) await s.typeInQuickInput('/var/backups/root-owned');
      else if (title === 'Backup file name') await s.typeInQuickInput(name);
      else if (title === 'Backup log') await s.pickQuickItem('No log');
      else return false;
      return true;
    });
    release({ state: 'FAILED', shortError: '/var/backups/root-owned is not writable by nobody' });
    const toast = s.errorToasts().filter({ hasText: `UCP backup ${name} FAILED` }).first();
    await toast.waitFor({ state: 'visible' });
    assert.match((await toast.innerText()).replace(/\s+/g, ' '), new RegExp(`FAILED on ${NODE}: /var/backups/root-owned is not writable by nobody\\. See the ucp-controller logs`));
    await poll(async () => /FAILED: \/var\/backups\/root-owned is not writable by nobody/.test(await rowText(name)), UI_TIMEOUT, `${name} FAILED in the tree`);
    await s.dismissNotifications();
  });

  await s.step('api-backup-cancel', async () => {
    // Cancel stops the waiting only: the API cannot cancel a backup, so UCP goes on and the tree shows how it ends.
    const name = `e2e-api-cancel-${stamp}.tar`;
    await s.runCommand('UCP: Backup Now');
    await s.answerPrompts(s.treeRowByLabel(name), 'Backup Now', async (title) => {
      if (title === `Folder on the managers of ${CLUSTER}`) await s.typeInQuickInput('/var/backups/ucp');
      else if (title === 'Backup file name') await s.typeInQuickInput(name);
      else if (title === 'Backup log') await s.pickQuickItem('No log');
      else return false;
      return true;
    });
    await poll(async () => /in progress/.test(await rowText(name)), UI_TIMEOUT, `${name} in progress in the tree`);
    const progress = s.page.locator('.notification-toast').filter({ hasText: `UCP backup of ${CLUSTER} (UCP API)` }).first();
    await progress.locator('.monaco-button', { hasText: 'Cancel' }).click();
    await s.waitUnlessError(s.message(/Stopped waiting for backup \S+; it goes on in UCP \(the API cannot cancel it\)\. The Backups list shows how it ends\./), 'the cancel to be confirmed');
    const running = [...fx.records.values()].find((r) => r.fileName === name);
    assert.equal(running?.backupState, 'IN_PROGRESS', 'UCP still runs it');
    release({ state: 'SUCCESS' });
    await s.viewTitleAction('Refresh').click();
    await poll(async () => /— SUCCESS/.test((await s.treeRowByLabel(name).getAttribute('aria-label').catch(() => null)) ?? ''), UI_TIMEOUT, `${name} SUCCESS in the tree after the cancel`);
    await s.dismissNotifications();
  });

  await s.step('api-malformed-answer', async () => {
    // A proxy's broken answer: one clear sentence in the tree, and the next refresh lists again.
    fx.breakNextAnswer('list', 'malformed-json');
    await s.viewTitleAction('Refresh').click();
    const error = s.treeRow('Cannot list backups');
    await error.waitFor({ state: 'visible' });
    assert.match((await error.innerText()).replace(/\s+/g, ' '), /UCP's answer to GET \/api\/ucp\/backups is not valid JSON/);
    await s.viewTitleAction('Refresh').click();
    await s.treeRowByLabel('e2e-api-seed-ok.tar').waitFor({ state: 'visible' });
  });

  await s.step('api-client-bundle', async () => {
    // The bundle zip as UCP downloads it (made by Info-ZIP's zip, files in a folder inside): its
    // ca.pem is UCP's CA (no consent asked), cert.pem + key.pem log in by mutual TLS.
    const dir = join(s.workspace, 'ucp-bundle-admin');
    mkdirSync(dir);
    for (const [f, text] of Object.entries(bundle)) writeFileSync(join(dir, `${f}.pem`), text);
    const zipFile = join(s.workspace, 'ucp-bundle-admin.zip');
    execFileSync('zip', ['-q', '-r', zipFile, 'ucp-bundle-admin'], { cwd: s.workspace });
    rmSync(dir, { recursive: true });
    const loginsBefore = fx.requests.filter((r) => r.route === 'login').length;
    await s.runCommand('UCP: Add Cluster');
    const added = s.message('Cluster apibundle added: the UCP API at');
    await s.answerPrompts(added, 'Add Cluster (bundle)', async (title) => {
      if (title === 'Add UCP cluster') await s.typeInQuickInput('apibundle');
      else if (title === 'How is apibundle reached?') await s.pickQuickItem('Client bundle (zip or folder)');
      else if (title === 'Add apibundle: UCP URL') await s.typeInQuickInput(fx.url);
      else if (title === 'Add apibundle: UCP API: client bundle') await s.pickQuickItem('Bundle zip file…');
      else if (title === 'UCP client bundle') await s.typeInFileDialog(zipFile, 'UCP client bundle', new RegExp(`^${s.workspace.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}/?$`));
      else return false;
      return true;
    });
    assert.match(await added.innerText(), /answers \(\d+ backups listed\)/);
    assert.equal(fx.requests.filter((r) => r.route === 'login').length, loginsBefore, 'the bundle authenticates by certificate, without a login');
    const settings = JSON.parse(readFileSync(join(s.userDataDir, 'User', 'settings.json'), 'utf8')) as { 'ucpBackup.clusters': { name: string }[] };
    assert.deepEqual(settings['ucpBackup.clusters'].at(-1), { name: 'apibundle', nodes: [], ucpUrl: new URL(fx.url).origin, ucpAuth: 'bundle' });
    rmSync(zipFile);
    await s.dismissNotifications();
  });

  await s.step('api-changed-ca', async () => {
    const next = makeUcpServerTls('ucp-reinstalled-root-ca');
    fx.replaceCertificate(next.server, next.ca.cert);
    const before = fx.requests.length;
    await s.viewTitleAction('Refresh').click();
    const error = s.treeRow('Cannot list backups');
    await error.waitFor({ state: 'visible' });
    const text = (await error.innerText()).replace(/\s+/g, ' ');
    assert.match(text, new RegExp(`the CA of UCP at ${host.replace(/\./g, '\\.')} has changed \\(now SHA-256 ${new X509Certificate(next.ca.cert).fingerprint256}; trusted: ${fingerprint}\\); refusing to connect`));
    assert.match(text, /UCP: Remove Cluster forgets the pinned CA/);
    assert.deepEqual(fx.requests.slice(before).filter((r) => r.route !== 'ca'), [], 'nothing but /ca was asked of the changed UCP (no password, no token)');
  });

  await s.step('api-secrets', async () => {
    for (const f of filesUnder(s.userDataDir).filter((p) => /\.(json|log)$/.test(p))) {
      const text = readFileSync(f, 'utf8');
      assert.ok(!text.includes(PASSWORD) && !text.includes(PASSPHRASE), `${f} holds no password or passphrase`);
      assert.ok(!text.includes(bundle.key.split('\n')[1]), `${f} holds no part of the bundle's key.pem`);
    }
  });
});
