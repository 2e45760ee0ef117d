/** The status bar item (issue 15, item 10): the active cluster's last good backup and its age, warnings, a running step. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { BackupRecord } from '../../src/core/history/record';
import { statusBarLook } from '../../src/vscode/statusBarLook';

const NOW = Date.parse('2024-05-02T12:00:00Z');
const rec = (over: Partial<BackupRecord>): BackupRecord => ({ id: 'x', encrypted: true, fileName: 'a.tar', logFileName: '', backupPath: '/b', backupState: 'SUCCESS', nodeLocation: 'manager1', shortError: '', created_at: '2024-05-02T09:00:00Z', completed_at: '2024-05-02T09:01:00Z', ...over });

test('the last successful backup and its age', () => {
  const look = statusBarLook('prod', [rec({})], undefined, NOW);
  assert.equal(look.text, '$(archive) prod: 3 hours ago');
  assert.equal(look.warning, false);
  assert.match(look.tooltip, /^Last UCP backup of prod: a\.tar, .* \(3 hours ago\) on manager1/);
});

test('a failed newest run, a stale last backup and no backup at all are warnings', () => {
  const failed = statusBarLook('prod', [rec({ id: 'f', backupState: 'FAILED', shortError: 'No space left on manager1', created_at: '2024-05-02T11:00:00Z' }), rec({})], undefined, NOW);
  assert.equal(failed.text, '$(warning) prod: 3 hours ago');
  assert.match(failed.tooltip, /The newest run failed: No space left on manager1/);
  assert.equal(failed.warning, true);
  const stale = statusBarLook('prod', [rec({ created_at: '2024-04-29T12:00:00Z' })], undefined, NOW);
  assert.equal(stale.warning, true);
  assert.match(stale.tooltip, /older than 36 hours/);
  assert.equal(statusBarLook('prod', [], undefined, NOW).text, '$(warning) prod: no backup');
});

test('a running backup shows its step; an unloaded history says so', () => {
  assert.equal(statusBarLook('prod', [rec({})], 'Backing up etcd 40%', NOW).text, '$(sync~spin) prod: Backing up etcd 40%');
  assert.match(statusBarLook('prod', undefined, undefined, NOW).tooltip, /reading the backup history/);
});

test('schedules: a missed run turns the item and the Backups row to "overdue", said once per spell; on time it reads the next run', async () => {
  const { clusterBackupStatus } = await import('../../src/core/schedule/status');
  const { overdueNotice, scheduleLook } = await import('../../src/vscode/scheduleLook');
  const hourly = { id: 'h', cluster: 'prod', machine: 'ops', user: 'root', mode: 'cron' as const, cron: '0 * * * *', every: 'hourly', timeZone: 'UTC', intervalMs: 3_600_000, randomDelaySec: 0, destination: '/b', namePrefix: 'hourly-', copyTo: [], installedAt: '2024-05-01T00:00:00Z' };
  // The schedule's own last backup at 09:00 (the manual one at 11:30 does not count for it): due 10:00, grace 1 h, so overdue from 11:00.
  const records = [rec({ id: 'm', fileName: 'manual.tar', created_at: '2024-05-02T11:30:00Z' }), rec({ id: 'h9', fileName: 'hourly-20240502T090000Z.tar' })];
  const status = clusterBackupStatus('prod', records, [hourly], new Date(NOW));
  const look = scheduleLook(status, NOW)!;
  assert.equal(look.overdue, true);
  assert.equal(look.short, 'overdue since 2 hours');
  assert.match(look.lines[0], /^Overdue: schedule "hourly" \(cron on root@ops, hourly-\*\.tar\) was due .* \(2 hours ago\) and made no backup since\./);
  const bar = statusBarLook('prod', records, undefined, NOW, look);
  assert.equal(bar.text, '$(warning) prod: 30 minutes ago · overdue');
  assert.equal(bar.warning, true);
  assert.ok(bar.tooltip.includes(look.lines[0]));
  const notice = overdueNotice(status, NOW)!;
  assert.equal(notice.key, 'prod|2024-05-02T10:00:00.000Z');
  assert.match(notice.text, /^UCP backups of prod are overdue: "hourly" .* was due 2 hours ago; the last good backup is from 30 minutes ago\.$/);
  // The same spell an hour on: the same key (no second notification).
  assert.equal(overdueNotice(clusterBackupStatus('prod', records, [hourly], new Date(NOW + 3_600_000)), NOW + 3_600_000)!.key, notice.key);
  // On time: the next run, no warning, no notice.
  const onTime = clusterBackupStatus('prod', [rec({ id: 'h11', fileName: 'hourly-20240502T113000Z.tar', created_at: '2024-05-02T11:30:00Z' })], [hourly], new Date(NOW));
  const ok = scheduleLook(onTime, NOW)!;
  assert.deepEqual([ok.overdue, ok.short], [false, 'next in 1 hour']);
  assert.equal(overdueNotice(onTime, NOW), undefined);
  assert.equal(statusBarLook('prod', records, undefined, NOW, ok).warning, false);
  // Another schedule's backups with a longer prefix ("hourly-x-…") are not this one's.
  const other = clusterBackupStatus('prod', [rec({ id: 'x', fileName: 'hourly-x-20240502T113000Z.tar', created_at: '2024-05-02T11:30:00Z' }), ...records], [hourly], new Date(NOW));
  assert.equal(other.overdue, true);
  // No schedule: nothing to say.
  assert.equal(scheduleLook(clusterBackupStatus('prod', records, [], new Date(NOW))), undefined);
});
