/**
 * Backup rows as a newcomer reads them (issue 15): the local time is the label, with UTC on
 * hover; a SUCCESS whose file is gone says "file missing" and offers Forget; a cancel or a
 * refusal is marked as such, not a red failure; every non-success says what to do.
 */
process.env.TZ = 'Asia/Kolkata'; // +05:30: local time visibly differs from UTC
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BackupRecord } from '../../src/core/history/record';
import { CANCELLED_ERROR, STOPPED_ERROR, WINDOW_CLOSED_ERROR } from '../../src/core/engine/runBackup';
import { INTERRUPTED_ERROR } from '../../src/core/history/reconcile';
import { formatLocalTime, formatUtcTime } from '../../src/shared/format';
import { localFileFacts, markWrittenHere } from '../../src/vscode/tree/backupList';
import { backupKind, backupPresentation, withBackupFacts } from '../../src/vscode/tree/presentation';

const NOW = Date.parse('2024-05-01T12:00:00Z');
const record = (over: Partial<BackupRecord>): BackupRecord => ({
  id: 'id-1', encrypted: false, fileName: 'demo-ucp-backup-2024-05-01T11-55-00Z.tar', logFileName: '', backupPath: '/var/backups/ucp', backupState: 'SUCCESS',
  nodeLocation: 'manager1', shortError: '', created_at: '2024-05-01T11:55:00.000Z', completed_at: '2024-05-01T11:56:30.000Z', size: 2048, location: 'host', ...over,
});

test('times: local for reading, UTC on hover, nothing for the zero time', () => {
  assert.equal(formatLocalTime('2024-05-01T11:55:07Z'), '2024-05-01 17:25');
  assert.equal(formatLocalTime('2024-05-01T11:55:07Z', true), '2024-05-01 17:25:07');
  assert.equal(formatUtcTime('2024-05-01T11:55:07.123Z'), '2024-05-01 11:55:07 UTC');
  assert.equal(formatLocalTime('0001-01-01T00:00:00Z'), '');
  assert.equal(formatLocalTime('not a time'), '');
});

test('the row label is the local time, so a long file name never hides it; the name follows', () => {
  const p = backupPresentation(record({}), NOW);
  assert.equal(p.label, '2024-05-01 17:25');
  assert.ok(p.label.length <= 16);
  assert.match(p.description, /^demo-ucp-backup-2024-05-01T11-55-00Z\.tar · 5 minutes ago · 2\.0 KiB · manager1$/);
  assert.match(p.tooltip, /^Created: 2024-05-01 17:25:00 \(2024-05-01 11:55:00 UTC\)$/m);
  assert.match(p.tooltip, /^Completed: 2024-05-01 17:26:30 \(2024-05-01 11:56:30 UTC\)$/m);
});

test('a cancelled, stopped or refused run is marked as such, grey, and says there is nothing to fix', () => {
  const says: [string, string][] = [
    [CANCELLED_ERROR, 'cancelled'],
    [STOPPED_ERROR, 'stopped by SIGTERM'],
    [WINDOW_CLOSED_ERROR, 'stopped: the VS Code window running it was closed or reloaded'],
  ];
  for (const [e, text] of says) {
    const p = backupPresentation(record({ backupState: 'FAILED', shortError: e, size: undefined }), NOW);
    assert.equal(backupKind(record({ backupState: 'FAILED', shortError: e })), 'cancelled', e);
    assert.ok(p.description.startsWith(`${text} · `), p.description);
    assert.equal(p.icon, 'circle-slash');
    assert.equal(p.color, 'disabledForeground');
    assert.equal(p.contextValue, 'backup.failed', 'cleared like any failed record');
    assert.match(p.tooltip, /What to do: Nothing to fix.*Clear Failed Records/);
  }
  const refused = backupPresentation(record({ backupState: 'FAILED', shortError: 'another backup is running (root@host, since 2024-05-01T11:50:00Z)' }), NOW);
  assert.match(refused.description, /^not started: another backup was running · /);
  assert.match(refused.tooltip, /What to do: It never started.*Break Stale Backup Lock/);
});

test('a real failure stays red and says what to do', () => {
  const cases: [string, RegExp][] = [
    ['No space left on manager1 in /var/backups/ucp: the backup did not fit', /Free space/],
    [INTERRUPTED_ERROR, /killed before it finished/],
    ['etcd snapshot failed: exit 1', /Show Log/],
  ];
  for (const [e, advice] of cases) {
    const p = backupPresentation(record({ backupState: 'FAILED', shortError: e }), NOW);
    assert.equal(p.icon, 'error', e);
    assert.match(p.description, /^FAILED: /);
    assert.match(p.tooltip, new RegExp(`What to do: .*${advice.source}`), e);
  }
});

test('a local SUCCESS whose file is gone shows "file missing" with Forget; present or host files do not', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ucp-rows-'));
  try {
    writeFileSync(join(dir, 'here.tar'), 'x');
    const here = record({ id: 'here', location: 'local', backupPath: dir, fileName: 'here.tar' });
    const gone = record({ id: 'gone', location: 'local', backupPath: dir, fileName: 'gone.tar' });
    assert.deepEqual(localFileFacts(gone), {}, "another machine's local backup: its path means nothing here");
    markWrittenHere(here.id);
    markWrittenHere(gone.id);
    assert.deepEqual(localFileFacts(here), {});
    assert.deepEqual(localFileFacts(gone), { fileMissing: true });
    assert.deepEqual(localFileFacts(record({ location: 'host' })), {}, 'a host file is checked when opened');
    assert.deepEqual(localFileFacts({ ...gone, backupState: 'FAILED' }), {}, 'a failed run owns no file');
    const p = backupPresentation(gone, NOW, localFileFacts(gone));
    assert.match(p.description, /^file missing · gone\.tar · /);
    assert.equal(p.icon, 'warning');
    assert.equal(p.contextValue, 'backup.missing');
    assert.match(p.tooltip, new RegExp(`What to do: The file is no longer at ${dir}/gone\\.tar.*Forget Backup`));
    // Applied over a presentation built without the facts (the API tree's merged rows).
    const over = withBackupFacts(backupPresentation(gone, NOW), gone, { fileMissing: true });
    assert.deepEqual({ ...over, tooltip: '' }, { ...p, tooltip: '' });
    assert.match(over.tooltip, /Forget Backup/);
    assert.equal(withBackupFacts(backupPresentation(here, NOW), here, {}).contextValue, 'backup.success.local');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
