/**
 * "UCP: Apply Retention…" (issue 17) in manage.test.ts's code-server session: three earlier
 * backups in a folder of their own on manager2 (records in the swarm, files on the node), the
 * policy typed in the input box, that folder picked as the scope, the preview in an editor,
 * the modal confirm; then the two older archives and their records are gone, the newest stays,
 * nothing elsewhere is touched, and the policy is the cluster's setting (the next run starts
 * from it). Then a schedule recorded in the swarm that missed its run: the Backups row and the
 * status bar turn to "overdue", a notification says so once (not again on refresh), and the
 * warning goes when the schedule does.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { chownSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { Agent } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Docker from 'dockerode';
import { createClusterRecord, getClusterRecord, removeClusterRecord } from '../../src/core/history/clusterHistory';
import { putClusterSchedule, removeClusterSchedule, type ClusterSchedule } from '../../src/core/schedule/clusterSchedule';
import type { BackupRecord } from '../../src/core/history/record';
import { UI_TIMEOUT, poll, type CodeServerSession } from '../helpers/codeServer';
import { testbedManager } from '../helpers/testbed';

const NODE = 'manager2';
const stamp = Date.now();
let dir = '';
let made: BackupRecord[] = [];

function nodeDocker(): Docker {
  // No keep-alive: dockerode's pooled socket would hold this file's process open for minutes.
  return new Docker({ socketPath: testbedManager(NODE).dockerSocketPath, agent: new Agent({ keepAlive: false }) } as Docker.DockerOptions);
}

/** Three verified host-path backups of three January days, newest first, as earlier runs left them. */
export async function prepareRetention(): Promise<void> {
  dir = mkdtempSync(join(tmpdir(), 'ucp-e2e-retention-'));
  chownSync(dir, 65534, 65534);
  const docker = nodeDocker();
  made = [];
  for (const day of [3, 2, 1]) {
    const at = new Date(Date.UTC(2026, 0, day, 2)).toISOString();
    const r: BackupRecord = {
      id: randomUUID(),
      encrypted: false,
      fileName: `e2e-retention-${stamp}-${day}.tar`,
      logFileName: '',
      backupPath: dir,
      backupState: 'SUCCESS',
      nodeLocation: NODE,
      shortError: '',
      created_at: at,
      completed_at: at,
      location: 'host',
      cluster: 'demo',
      sha256: 'd'.repeat(64),
      size: 7,
    };
    writeFileSync(join(dir, r.fileName), 'archive');
    await createClusterRecord(docker, r);
    made.push(r);
  }
}

/** An hourly schedule installed 3 hours ago whose backups (its prefix) never came: overdue. */
const missed: ClusterSchedule = {
  id: `e2e-overdue-${stamp}`,
  cluster: 'demo',
  machine: 'e2e-ops',
  user: 'root',
  mode: 'cron',
  cron: '0 * * * *',
  every: 'hourly',
  timeZone: 'UTC',
  intervalMs: 3_600_000,
  randomDelaySec: 0,
  destination: '/var/backups/ucp',
  namePrefix: `e2e-overdue-${stamp}-`,
  copyTo: [],
  installedAt: new Date(Date.now() - 3 * 3_600_000).toISOString(),
};

export async function cleanupRetention(): Promise<void> {
  const docker = nodeDocker();
  await removeClusterSchedule(docker, missed).catch(() => undefined);
  for (const r of made) await removeClusterRecord(docker, r.id).catch(() => undefined);
  if (dir) rmSync(dir, { recursive: true, force: true });
}

export function registerRetentionTests(session: () => CodeServerSession): void {
  test('"Apply Retention…" on the Backups row: policy, scope, preview, confirm; the older backups of that folder go with their files, the policy is kept', async () => {
    const s = session();
    await s.step('retention-apply', async () => {
      const [newest, ...older] = made;
      await s.clickActivityBar('UCP Backup');
      await s.treeContextMenu('Backups', 'Apply Retention…');
      const modal = s.modalButton(/Remove 2 backup records of demo\?/, 'Remove');
      await s.answerPrompts(modal, 'Apply Retention', async (title) => {
        if (title === 'Apply Retention to demo') await s.typeInQuickInput('last=1');
        else if (title === 'Apply retention to which backups?') await s.pickQuickItem(`${NODE}:${dir}`);
        else return false;
        return true;
      });
      // The preview names every backup of the folder with what happens to it.
      const editor = s.page.locator('.monaco-editor .view-lines');
      await editor.filter({ hasText: `Retention for cluster demo, backups in ${NODE}:${dir}` }).first().waitFor({ state: 'visible' });
      const text = (await editor.first().innerText()).replace(/\u00a0/g, ' ');
      assert.match(text, new RegExp(`keep +${newest.id} .*newest verified backup`));
      for (const r of older) assert.match(text, new RegExp(`remove ${r.id} `));
      assert.match(text, /2 would be removed, 1 kept\./);
      for (const r of made) assert.ok(existsSync(join(dir, r.fileName)), 'nothing goes before the confirm');

      await modal.click();
      await s.waitUnlessError(s.message('Removed 2 backup(s) of demo; 1 kept.'), 'retention to finish');
      for (const r of older) {
        assert.equal(existsSync(join(dir, r.fileName)), false, `${r.fileName} is removed from the node`);
        assert.equal(await getClusterRecord(nodeDocker(), r.id), undefined, `the record of ${r.fileName} is removed`);
      }
      assert.ok(existsSync(join(dir, newest.fileName)), 'the newest backup stays');
      assert.equal((await getClusterRecord(nodeDocker(), newest.id))?.id, newest.id);
      await s.dismissNotifications();

      // The policy is now the cluster's: the next run offers it.
      await s.treeContextMenu('Backups', 'Apply Retention…');
      const input = s.quickInput().locator('input');
      await input.waitFor({ state: 'visible' });
      assert.equal(await input.inputValue(), 'last=1');
      await s.closeQuickInput();
    });
  });
}

export function registerOverdueTests(session: () => CodeServerSession): void {
  test('a schedule that missed its run: the Backups row and the status bar say "overdue", a notification says it once, and it clears with the schedule', async () => {
    const s = session();
    await s.step('schedule-overdue', async () => {
      await putClusterSchedule(nodeDocker(), missed);
      try {
        await s.clickActivityBar('UCP Backup');
        await s.viewTitleAction('Refresh').click();
        const notice = s.message(/UCP backups of demo are overdue: "hourly" \(cron on root@e2e-ops/);
        await s.waitUnlessError(notice, 'the overdue notification');
        const row = s.treeRowByLabel('Backups');
        await poll(async () => /overdue since/.test((await row.locator('.label-description').innerText().catch(() => '')) ?? ''), UI_TIMEOUT, 'the Backups row to say overdue');
        const bar = s.page.locator('.part.statusbar .statusbar-item', { hasText: /demo: .* · overdue/ }).first();
        await bar.waitFor({ state: 'visible' });
        await s.dismissNotifications();
        // Once per spell: a refresh does not say it again.
        await s.viewTitleAction('Refresh').click();
        await poll(async () => /overdue since/.test((await row.locator('.label-description').innerText().catch(() => '')) ?? ''), UI_TIMEOUT, 'the Backups row after the refresh');
        await s.page.waitForTimeout(1500);
        assert.equal(await notice.isVisible(), false, 'the overdue notification is not repeated');
      } finally {
        await removeClusterSchedule(nodeDocker(), missed);
      }
      await s.viewTitleAction('Refresh').click();
      const row = s.treeRowByLabel('Backups');
      await poll(async () => /^\d+$/.test(((await row.locator('.label-description').innerText().catch(() => '')) ?? '').trim()), UI_TIMEOUT, 'the Backups row without a schedule');
      await s.page.locator('.part.statusbar .statusbar-item', { hasText: /demo: / }).filter({ hasNotText: /overdue/ }).first().waitFor({ state: 'visible' });
    });
  });
}
