/**
 * Copy destinations are read strictly (no password in an sftp:// address, unknown schemes
 * refused), and the --notify-command hook gets the run's result as JSON on stdin; a hook that
 * fails or hangs is reported, never fatal.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { copyLocation, parseCopyDestination } from '../../src/core/copy/destination';
import { backupName, notify, type ScheduleRunResult } from '../../src/core/schedule/runSchedule';

test('copy destinations: sftp://, s3:// and folders; passwords and unknown schemes refused', () => {
  const s = parseCopyDestination('sftp://backup@vault.example.com:2222/srv/ucp');
  assert.deepEqual(s, { kind: 'sftp', url: 'sftp://backup@vault.example.com:2222/srv/ucp/', user: 'backup', host: 'vault.example.com', port: 2222, dir: '/srv/ucp' });
  assert.equal(copyLocation(s, 'a.tar'), 'sftp://backup@vault.example.com:2222/srv/ucp/a.tar');
  const b = parseCopyDestination('s3://my-backups/prod/ucp');
  assert.deepEqual([b.kind, copyLocation(b, 'a.tar')], ['s3', 's3://my-backups/prod/ucp/a.tar']);
  assert.equal(copyLocation(parseCopyDestination('s3://my-backups'), 'a.tar'), 's3://my-backups/a.tar');
  assert.deepEqual(parseCopyDestination('/mnt/nfs/ucp/'), { kind: 'local', url: '/mnt/nfs/ucp', dir: '/mnt/nfs/ucp' });
  assert.throws(() => parseCopyDestination('sftp://backup:hunter2@vault/srv'), (e: Error) => /must not carry a password/.test(e.message) && !e.message.includes('hunter2'));
  assert.throws(() => parseCopyDestination('ftp://vault/srv'), /Copies to "ftp:\/\/" are not supported/);
  assert.throws(() => parseCopyDestination('s3://B_ad/x'), /not a valid s3:\/\/ address/);
});

const result: ScheduleRunResult = { schedule: 'nightly', cluster: 'demo', machine: 'ops', outcome: 'copy-failed', exitCode: 4, startedAt: '2026-12-03T02:00:00.000Z', finishedAt: '2026-12-03T02:01:00.000Z', copies: [], copyErrors: [{ to: 's3://b/p', error: 'refused' }], error: 'copy to s3://b/p failed: refused' };

test('--notify-command: the result as JSON on stdin, the outcome in the environment; failures reported', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ucp-backup-notify-'));
  try {
    assert.equal(await notify(`cat > '${dir}/in.json'; echo "$UCP_BACKUP_OUTCOME $UCP_BACKUP_EXIT_CODE" > '${dir}/env'`, result), undefined);
    assert.deepEqual(JSON.parse(readFileSync(join(dir, 'in.json'), 'utf8')), result);
    assert.equal(readFileSync(join(dir, 'env'), 'utf8'), 'copy-failed 4\n');
    assert.equal(await notify('echo mail server down >&2; exit 3', result), 'the notify command exited 3: mail server down');
    assert.equal(await notify('exec sleep 30', result, 300), 'the notify command was stopped (SIGTERM) after 0.3 s');
    assert.equal(await notify('true', result), undefined, 'a hook that ignores its input is fine');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('each scheduled backup is named <prefix><UTC time>.tar', () => {
  assert.equal(backupName('nightly-', new Date('2026-12-03T02:00:07.123Z')), 'nightly-20261203T020007Z.tar');
});
