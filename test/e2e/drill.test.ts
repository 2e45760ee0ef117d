/**
 * "UCP: Restore Drill" in real VS Code (code-server) + real Chromium, against the real test
 * cluster: on a backup row (a host-path backup on manager1) and on a `.tar` in the Explorer.
 * The passphrase is typed into VS Code's input box; the report opens in the details panel
 * as a verify report does; the row then shows its last drill; no drill container is left.
 * On failure artifacts go to test-results/e2e/<test>/.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { runCli } from '../helpers/cli';
import { CodeServerSession, TESTBED_CLUSTERS, UI_TIMEOUT, poll } from '../helpers/codeServer';
import { loadTestbed, testbedManager } from '../helpers/testbed';

const PASSPHRASE = 'e2e-drill-passphrase-42';
const m1 = testbedManager('manager1');
const name = `e2e-drill-${Date.now()}.tar`;
let s: CodeServerSession;

function drillContainers(): string[] {
  return loadTestbed().managers.flatMap((m) => spawnSync('docker', ['-H', `unix://${m.dockerSocketPath}`, 'ps', '-a', '-q', '--filter', 'label=com.ucp-backup.drill'], { encoding: 'utf8' }).stdout.split('\n').filter(Boolean));
}
/** Drill containers made since the file began (a drill killed elsewhere is not this test's). */
let baseline: Set<string>;
const drillLeftovers = () => drillContainers().filter((id) => !baseline.has(id));

before(async () => {
  baseline = new Set(drillContainers());
  let r;
  while ((r = await runCli(['backup', '--config', TESTBED_CLUSTERS, '--node', 'manager1', '--engine', 'builtin', '--host-path', m1.backupDir, '--name', name, '--passphrase-file', '-'], { stdin: PASSPHRASE + '\n' })).code === 3) await new Promise((res) => setTimeout(res, 2000));
  if (r.code !== 0) throw new Error(`ucp-backup backup exited ${r.code}:\n${r.stderr}`);
  // The same archive as a file in the opened folder, for the Explorer's context menu.
  s = await CodeServerSession.start({ workspaceFiles: { 'drill-me.tar': { copyFrom: join(m1.backupDir, name) } } });
});

after(async () => {
  await s?.close();
  rmSync(join(m1.backupDir, name), { force: true });
});

/**
 * Types the passphrase when asked, then waits for the drill's notification to go and its report
 * (of `source`, not an earlier panel's) in the details panel; the report's title text.
 */
async function drillReport(source: string): Promise<string> {
  await s.waitUnlessError(s.quickInput().filter({ hasText: /Passphrase for / }), 'the passphrase prompt');
  await s.typeInQuickInput(PASSPHRASE);
  const escaped = source.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  await s.waitUnlessError(s.message(new RegExp(`Restore drill of ${escaped}: (PASS|WARN|FAIL)`)), 'the drill\'s result message', UI_TIMEOUT * 2);
  const web = s.webviewFrame();
  const report = web.locator('section.report').filter({ has: web.locator('p.muted', { hasText: source }) });
  await s.waitUnlessError(report, `the restore drill report of ${source}`, UI_TIMEOUT * 2, web.locator('#status.error'));
  return (await report.locator('#report-title').innerText()).replace(/\s+/g, ' ').trim();
}

test('Restore Drill on a backup row: PASS in the details panel, with the etcd rows; the row then shows its last drill', async () => {
  await s.step('drill-row', async () => {
    await s.clickActivityBar('UCP Backup');
    const row = s.treeRowByLabel(name);
    await poll(async () => /— SUCCESS/.test((await row.getAttribute('aria-label').catch(() => null)) ?? ''), UI_TIMEOUT, `tree row ${name} with state SUCCESS`);
    assert.match((await row.getAttribute('aria-label')) ?? '', /Never restore-drilled/);
    await s.treeContextMenu(name, 'Restore Drill');
    assert.equal(await drillReport(name), 'Restore drill PASS');
    const web = s.webviewFrame();
    assert.equal(await web.locator('table.checks tr[data-check="etcdRestore"] .check-result').innerText(), '✓ PASS');
    assert.match(await web.locator('table.checks tr[data-check="etcdRestore"] .reason').innerText(), /the image ucp-kv runs\) on manager1, --network none/);
    assert.match(await web.locator('table.checks tr[data-check="etcdManifest"] .reason').innerText(), /keys the live store held equal the manifest's record/);
    assert.match(await web.locator('table.schema tr[data-field="lastDrill"] td').innerText(), /^PASS on .* \(etcd on manager1, revision \d+, \d+ keys\)$/);
    await poll(async () => /Last restore drill: PASS/.test((await row.getAttribute('aria-label').catch(() => null)) ?? ''), UI_TIMEOUT, 'the row showing its last drill');
    assert.deepEqual(drillLeftovers(), []);
    await s.dismissNotifications();
  });
});

test('Restore Drill on a .tar in the Explorer: the same report for the file', async () => {
  await s.step('drill-explorer', async () => {
    await s.explorerContextMenu('drill-me.tar', 'Restore Drill');
    assert.equal(await drillReport('drill-me.tar'), 'Restore drill PASS');
    assert.match(await s.webviewFrame().locator('table.checks tr[data-check="version"]').innerText(), /Restorable on UCP \d+\.\d+\.\d+ \(manager\d\)/);
    assert.deepEqual(drillLeftovers(), []);
  });
});
