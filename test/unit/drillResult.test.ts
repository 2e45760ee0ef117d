/**
 * The last drill of a backup kept with its record: found by id or by where its file is (a
 * local path, a path on a manager), written to the local history, read back only when in
 * shape (a swarm record is untrusted input).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { drillSummary, findDrilledRecord, lastDrillOf, saveDrillResult } from '../../src/core/history/drillResult';
import { LocalHistory } from '../../src/core/history/localHistory';
import type { BackupRecord } from '../../src/core/history/record';
import type { DrillReport } from '../../src/core/drill/report';
import { check } from '../../src/core/drill/report';
import { tempDir } from '../helpers/archives';

const rec = (id: string, o: Partial<BackupRecord>): BackupRecord => ({ id, encrypted: true, fileName: `${id}.tar`, logFileName: '', backupPath: '/var/backups/ucp', backupState: 'SUCCESS', nodeLocation: 'manager1', shortError: '', created_at: '2026-01-01T00:00:00Z', completed_at: '2026-01-01T00:01:00Z', location: 'host', cluster: 'demo', ...o });

const report: DrillReport = {
  verdict: 'WARN',
  source: 'x',
  manager: 'manager2',
  checks: [check('archive', 'Archive opens and verifies', 'PASS', 'ok'), check('certificate', 'Server certificate ucp-controller-server-certs', 'WARN', `expires in 10 days ${'x'.repeat(400)}`)],
  etcd: { hash: 1, revision: 42, totalKey: 90, totalSize: 1, memberRevision: 42, keys: 31, etcdVersion: '3.4.23' },
  durationMs: 1234,
};

test('the summary keeps the verdict, the rows that did not pass (shortened), the revision and keys, and where it ran', () => {
  const s = drillSummary(report, new Date('2026-02-03T04:05:06Z'));
  assert.equal(s.at, '2026-02-03T04:05:06.000Z');
  assert.equal(s.verdict, 'WARN');
  assert.deepEqual([s.revision, s.keys, s.etcdVersion, s.ranOn, s.durationMs], [42, 31, '3.4.23', 'manager2', 1234]);
  assert.equal(s.findings.length, 1);
  assert.match(s.findings[0], /^WARN Server certificate ucp-controller-server-certs: expires in 10 days x+…$/);
  assert.ok(s.findings[0].length <= 240);
});

test('the drilled file finds its record: by id, by a local path, by a path on a manager (the node decides between equal folders)', () => {
  const records = [
    rec('a', { location: 'local', backupPath: '/home/admin/backups' }),
    rec('b', { nodeLocation: 'manager1' }),
    rec('c', { nodeLocation: 'manager2', fileName: 'b.tar' }),
    rec('d', { backupState: 'FAILED', fileName: 'd.tar' }),
  ];
  assert.equal(findDrilledRecord(records, { kind: 'local', path: '/home/admin/backups/a.tar' })?.id, 'a');
  assert.equal(findDrilledRecord(records, { kind: 'host', path: '/var/backups/ucp/b.tar', node: ['manager2', '127.0.0.2'] })?.id, 'c');
  assert.equal(findDrilledRecord(records, { kind: 'host', path: '/var/backups/ucp/b.tar', node: ['manager3'] }), undefined, 'two candidates, neither on that node');
  assert.equal(findDrilledRecord(records, { kind: 'host', path: '/var/backups/ucp/d.tar', node: ['manager1'] }), undefined, 'a FAILED run owns no file');
  assert.equal(findDrilledRecord(records, { kind: 'local', path: '/elsewhere.tar' }, 'b')?.id, 'b');
});

test('a local record gets lastDrill in the local history; a malformed lastDrill reads as never drilled', async () => {
  const dir = tempDir('ucp-drillrec-');
  try {
    const local = new LocalHistory(dir);
    const r = rec('l1', { location: 'local', backupPath: dir });
    await local.put(r);
    await saveDrillResult(r, drillSummary(report), undefined, local);
    const back = (await local.list()).find((x) => x.id === 'l1')!;
    assert.equal(lastDrillOf(back)?.verdict, 'WARN');
    assert.equal(lastDrillOf(back)?.keys, 31);
    assert.equal(lastDrillOf(rec('n', {})), undefined);
    assert.equal(lastDrillOf(rec('m', { lastDrill: { at: 5, verdict: 'MAYBE' } as never })), undefined);
    assert.deepEqual(lastDrillOf(rec('k', { lastDrill: { at: '2026-01-01T00:00:00Z', verdict: 'FAIL', findings: ['x', 7], keys: 'lots' } as never }))?.findings, ['x']);
  } finally {
    rmSync(join(dir), { recursive: true, force: true });
  }
});
