/** Backup Now's default file name carries the record's created_at, to the second (issue 15, item 8). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { defaultBackupName, fileStamp, stampAtStart } from '../../src/vscode/flows/backupNames';

test('a kept default name is stamped as the backup starts, and created_at is that instant', () => {
  const proposedAt = new Date('2024-05-01T11:55:07.321Z');
  const proposed = defaultBackupName('prod', proposedAt);
  assert.equal(proposed, 'prod-ucp-backup-2024-05-01T11-55-07Z.tar');
  // The admin took 2 minutes over the prompts.
  const start = new Date('2024-05-01T11:57:09.876Z');
  const named = stampAtStart(proposed, proposed, 'prod', start);
  assert.equal(named.fileName, 'prod-ucp-backup-2024-05-01T11-57-09Z.tar');
  assert.equal(named.createdAt, '2024-05-01T11:57:09.000Z');
  assert.equal(fileStamp(new Date(named.createdAt!)), '2024-05-01T11-57-09Z', 'the name says created_at');
});

test('a name the admin typed is kept as typed, and created_at is left to the engine', () => {
  const proposed = defaultBackupName('prod', new Date('2024-05-01T11:55:07Z'));
  assert.deepEqual(stampAtStart('before-upgrade.tar', proposed, 'prod', new Date()), { fileName: 'before-upgrade.tar' });
});
