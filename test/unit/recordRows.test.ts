/**
 * The details header as an admin reads it (issue 15, item 9): human labels with the schema key
 * on hover, local times with their age and UTC on hover, no empty rows.
 */
process.env.TZ = 'America/New_York'; // -04:00 in May: local differs from UTC
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { BackupRecord } from '../../src/core/history/record';
import { recordRows } from '../../src/shared/recordRows';

const NOW = Date.parse('2024-05-01T15:00:00Z');
const record: BackupRecord = {
  id: 'b3c1', encrypted: true, fileName: 'prod.tar', logFileName: '', backupPath: '/var/backups/ucp', backupState: 'SUCCESS', nodeLocation: 'manager1',
  shortError: '', created_at: '2024-05-01T12:00:07.000Z', completed_at: '2024-05-01T12:01:00Z', size: 337_123, sha256: 'ab'.repeat(32), engine: 'builtin',
};
const byField = (r: BackupRecord) => new Map(recordRows(r, NOW).map((x) => [x.field, x]));

test('labels are words; the schema key is on hover', () => {
  const rows = byField(record);
  assert.equal(rows.get('created_at')!.label, 'Created');
  assert.equal(rows.get('created_at')!.keyTitle, 'created_at (Backup schema)');
  assert.equal(rows.get('size')!.keyTitle, 'size (UCP Backup)');
  assert.equal(rows.get('encrypted')!.value, 'Yes, with a passphrase');
  assert.equal(rows.get('engine')!.value, 'Built-in');
});

test('times are local with their age; UTC on hover; the zero time reads "not completed"', () => {
  const rows = byField(record);
  assert.equal(rows.get('created_at')!.value, '2024-05-01 08:00:07 (3 hours ago)');
  assert.match(rows.get('created_at')!.valueTitle!, /^2024-05-01 12:00:07 UTC/);
  const running = byField({ ...record, backupState: 'IN_PROGRESS', completed_at: '0001-01-01T00:00:00Z' });
  assert.equal(running.get('completed_at')!.value, 'not completed');
});

test('no row for an empty field (no error, no log); sizes to the byte', () => {
  const rows = byField(record);
  assert.equal(rows.has('shortError'), false);
  assert.equal(rows.has('logFileName'), false);
  assert.equal(rows.has('ucpVersion'), false);
  assert.equal(rows.get('size')!.value, '329 KiB (337,123 bytes)');
  const failed = byField({ ...record, backupState: 'FAILED', shortError: 'No space left on manager1' });
  assert.equal(failed.get('shortError')!.value, 'No space left on manager1');
  assert.equal(failed.get('shortError')!.label, 'Error');
});

test('off-site copies listed in the record are rows of their own (place, when checked; bytes and SHA-256 on hover), and lines of the tree tooltip', async () => {
  const copies = [
    { to: 's3://b/p/', location: 's3://b/p/prod.tar', size: 337_123, sha256: 'cd'.repeat(32), copiedAt: '2024-05-01T12:02:00Z', checkedAt: '2024-05-01T12:03:00Z', checkedBy: 'read back' },
    { to: '/mnt/nfs', location: '/mnt/nfs/prod.tar', size: 337_123, sha256: 'cd'.repeat(32), copiedAt: '2024-05-01T12:04:00Z', checkedAt: '2024-05-01T12:05:00Z', checkedBy: 'read back' },
  ];
  const rows = recordRows({ ...record, copies } as BackupRecord, NOW).filter((r) => r.field === 'copies');
  assert.deepEqual(rows.map((r) => r.value), ['s3://b/p/prod.tar (read back and checked 2024-05-01 08:03)', '/mnt/nfs/prod.tar (read back and checked 2024-05-01 08:05)']);
  assert.equal(rows[0].valueTitle, `337123 bytes · SHA-256 ${'cd'.repeat(32)}`);
  assert.equal(recordRows(record, NOW).some((r) => r.field === 'copies'), false);
  const { backupPresentation } = await import('../../src/vscode/tree/backupPresentation');
  assert.match(backupPresentation({ ...record, copies } as BackupRecord, NOW).tooltip, /^Copy: s3:\/\/b\/p\/prod\.tar \(read back and checked 2024-05-01 08:03\)$/m);
});
