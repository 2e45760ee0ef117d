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
