/**
 * Issue 18's window faults, in real VS Code (code-server) in real Chromium against the real
 * cluster: the window reloaded while a backup runs, and the extension host killed (SIGKILL)
 * while one runs. A 1 GiB file in one of manager1's UCP volumes keeps the run in its volumes
 * step for seconds, so the fault lands mid-transfer; the run is started by a keybinding with
 * arguments (cluster, node, destination), so only the passphrase is typed. The engine is the
 * official one, run from the fixture image written from the spec (not the real docker/ucp).
 *
 * Reload: deactivate stops the run as a cancel does, within VS Code's shutdown budget: record
 * FAILED "stopped: the VS Code window … was closed or reloaded", lock released, no helper, no
 * file, nothing paused; the reloaded tree says so.
 * Kill: nothing runs the cleanup, so it ends as a SIGKILLed CLI does: the lock's lease (6 s
 * here, UCP_BACKUP_LOCK_STALE_MS) lapses, the next start's tree marks the record interrupted
 * and says why, and the next backup takes the lock over and removes the dead run's helpers.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { Agent } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Docker from 'dockerode';
import { HELPER_LABEL } from '../../src/core/engine/dockerStreams';
import { WINDOW_CLOSED_ERROR } from '../../src/core/engine/runBackup';
import type { BackupRecord } from '../../src/core/history/record';
import { listClusterRecords } from '../../src/core/history/clusterHistory';
import { readLock } from '../../src/core/lock/clusterLock';
import { runCli } from '../helpers/cli';
import { CodeServerSession, TESTBED_CLUSTERS, UI_TIMEOUT, poll } from '../helpers/codeServer';
import { testbedManager } from '../helpers/testbed';
import { writeFiller } from '../integration/faultKit';

const PASSPHRASE = 'e2e-lifecycle-passphrase-7';
/** The extension host's lease (and the CLI's, for the takeover): short, so the test need not wait a minute. */
const LEASE_ENV = { UCP_BACKUP_LOCK_STALE_MS: '6000' };
const m1 = testbedManager('manager1');
const docker = new Docker({ socketPath: m1.dockerSocketPath, agent: new Agent({ keepAlive: false }) } as Docker.DockerOptions);
const out = mkdtempSync(join(tmpdir(), 'ucp-e2e-lifecycle-'));
const stamp = Date.now();
const files = { reload: `e2e-reload-${stamp}.tar`, kill: `e2e-kill-${stamp}.tar` };
/** The same chords as VS Code's keybindings.json spells them and as Playwright presses them. */
const KEYS = { reload: { vscode: 'ctrl+alt+shift+u', press: 'Control+Alt+Shift+KeyU' }, kill: { vscode: 'ctrl+alt+shift+i', press: 'Control+Alt+Shift+KeyI' } };
let s: CodeServerSession;
let filler: string | undefined;

before(async () => {
  const bind = (key: { vscode: string }, file: string) => ({
    key: key.vscode,
    command: 'ucpBackup.backupNow',
    args: { cluster: 'demo', node: 'manager1', destination: { kind: 'local', path: join(out, file) }, includeLogs: false },
  });
  // The official engine (the fixture image written from the spec): its cancel is the longer one (SIGTERM to the image, which removes its own helpers).
  s = await CodeServerSession.start({ env: LEASE_ENV, settings: { 'ucpBackup.engine': 'official' }, keybindings: [bind(KEYS.reload, files.reload), bind(KEYS.kill, files.kill)] });
  filler = writeFiller(`e2e-lifecycle-filler-${stamp}`, 1 << 30, m1);
});

after(async () => {
  if (filler) rmSync(filler, { force: true });
  await s?.close();
  rmSync(out, { recursive: true, force: true });
});

async function record(fileName: string): Promise<BackupRecord | undefined> {
  const r = await runCli(['list', '--config', TESTBED_CLUSTERS, '--json'], { env: LEASE_ENV });
  assert.equal(r.code, 0, r.stderr);
  return (JSON.parse(r.stdout) as BackupRecord[]).find((x) => x.fileName === fileName);
}

/** The run's helper containers, and the official image's `ucp` container (one at a time, cluster-wide). */
const helpers = async (runId: string) => [
  ...(await docker.listContainers({ all: true, filters: { label: [`${HELPER_LABEL}=${runId}`] } })),
  ...(await docker.listContainers({ all: true, filters: { name: ['^/ucp$'] } })),
].map((c) => c.Names[0]);

/**
 * Presses the keybinding, types the passphrase (the first time; then it is remembered), and
 * returns the run's record once its own helper container streams from the node. Asked straight
 * of manager1's dockerd: a CLI call per look would take longer than the volume does.
 */
async function startBackup(key: { press: string }, fileName: string): Promise<BackupRecord> {
  await s.page.locator('.part.statusbar').click({ position: { x: 5, y: 5 } });
  await s.page.keyboard.press(key.press);
  let run: BackupRecord | undefined;
  await poll(
    async () => {
      if (await s.quickInput().isVisible().catch(() => false)) {
        const title = (await s.quickInput().locator('.quick-input-title').innerText().catch(() => '')).trim();
        if (/^Backup passphrase for cluster demo|^Confirm the backup passphrase/.test(title)) await s.typeInQuickInput(PASSPHRASE);
        else if (title === 'Remember the passphrase?') await s.pickQuickItem('Remember passphrase');
        return false;
      }
      run ??= (await listClusterRecords(docker)).find((r) => r.fileName === fileName);
      return run !== undefined && (await docker.listContainers({ filters: { label: [`${HELPER_LABEL}=${run.id}`] } })).length + (await docker.listContainers({ filters: { name: ['^/ucp$'] } })).length > 0;
    },
    UI_TIMEOUT * 2,
    `the backup ${fileName} to stream from manager1`,
  );
  assert.equal(run?.backupState, 'IN_PROGRESS');
  return run!;
}

async function treeSays(fileName: string, what: RegExp): Promise<void> {
  await s.clickActivityBar('UCP Backup');
  const row = s.treeRowByLabel(fileName);
  let seen = '';
  await poll(async () => what.test((seen = (await row.getAttribute('aria-label').catch(() => null)) ?? '') + ' ' + ((await row.innerText().catch(() => '')) ?? '')), UI_TIMEOUT * 2, `tree row ${fileName} to match ${what} (it shows "${seen}")`);
}

async function nothingPaused(): Promise<void> {
  const paused = await docker.listContainers({ all: true, filters: { status: ['paused'] } });
  assert.deepEqual(paused.map((c) => c.Names[0]), [], 'nothing left paused');
}

test('the window reloaded mid-backup: the run is stopped cleanly and the reloaded tree says why', async () => {
  await s.step('reload', async () => {
    const running = await startBackup(KEYS.reload, files.reload);
    // While it runs the status bar shows its step (issue 15, item 10).
    await s.page.locator('.part.statusbar .statusbar-item', { hasText: /demo: (Validating|Reading UCP metadata|Backing up|Writing the archive)/ }).first().waitFor({ state: 'visible' });
    await s.reloadWindow('command');

    // Deactivate had ~5 s: the record and lock were ended by the run itself, not by a lease.
    const ended = await record(files.reload);
    assert.equal(ended?.backupState, 'FAILED', JSON.stringify(ended));
    assert.equal(ended?.shortError, WINDOW_CLOSED_ERROR);
    assert.notEqual((await readLock(docker))?.backupId, running.id, 'the lock was released by the stopping run');
    await poll(async () => (await helpers(running.id)).length === 0, 20_000, 'the run to have removed its helper containers');
    assert.deepEqual(readdirSync(out).filter((f) => f.includes(files.reload.replace('.tar', ''))), [], 'no file, no partial');
    await nothingPaused();
    await treeSays(files.reload, /stopped: the VS Code window running it was closed or reloaded/);
  });
});

test('the extension host killed mid-backup: the next start marks the run interrupted once its lease lapses, and the next backup runs', async () => {
  await s.step('kill', async () => {
    const running = await startBackup(KEYS.kill, files.kill);
    const hosts = s.extensionHostPids();
    assert.ok(hosts.length > 0, 'the extension host process was found');
    for (const pid of hosts) process.kill(pid, 'SIGKILL');
    await s.reloadWindow('page');

    // What the admin sees on the next start: the run is named as interrupted, with why.
    await treeSays(files.kill, /FAILED: interrupted: its run stopped renewing the cluster lock \(its lease expired/);
    const ended = await record(files.kill);
    assert.equal(ended?.backupState, 'FAILED', 'the tree stored what it showed');
    assert.deepEqual(readdirSync(out).filter((f) => f === files.kill), [], 'no file under the backup name');

    // The next backup takes the expired lock over and removes what the killed run left.
    const next = join(out, `e2e-after-kill-${stamp}.tar`);
    const r = await runCli(['backup', '--config', TESTBED_CLUSTERS, '--node', 'manager1', '--engine', 'builtin', '--file', next, '--no-passphrase', '--json'], { env: LEASE_ENV });
    assert.equal(r.code, 0, r.stderr);
    assert.equal((JSON.parse(r.stdout) as BackupRecord).backupState, 'SUCCESS');
    assert.deepEqual(await helpers(running.id), [], 'the killed run\'s helpers and ucp container are gone');
    assert.equal(await readLock(docker), undefined, 'no lock left');
    await nothingPaused();
  });
});
