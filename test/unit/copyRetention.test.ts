/**
 * Retention of off-site copies per destination (src/core/copy/copyRetention.ts): only the copies
 * listed at that place count, each at its backup's time; a copy whose record names a file
 * outside the place is never deleted; a local folder's copies really go, records updated.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeCopyPlan, executeCopyPrune, planCopyRetention } from '../../src/core/copy/copyRetention';
import type { RecordWithCopies } from '../../src/core/copy/copyBackup';
import { LocalHistory } from '../../src/core/history/localHistory';

function rec(id: string, day: number, copies: { to: string; location: string }[], state: 'SUCCESS' | 'FAILED' = 'SUCCESS'): RecordWithCopies {
  const at = new Date(Date.UTC(2026, 0, day, 2)).toISOString();
  return {
    id, encrypted: false, fileName: `${id}.tar`, logFileName: '', backupPath: '/var/backups/ucp', backupState: state, nodeLocation: 'm1', shortError: '', created_at: at, completed_at: at, location: 'host', cluster: 'c',
    copies: copies.map((c) => ({ ...c, size: 1, sha256: 'a'.repeat(64), copiedAt: at, checkedAt: at, checkedBy: 'read back' as const })),
  };
}

test('the plan counts only the copies at that place, newest first by their backup, and says why for each', () => {
  const s3 = 's3://bkt/p/';
  const records = [
    rec('d5', 5, [{ to: s3, location: `${s3}d5.tar` }]),
    rec('d4', 4, [{ to: '/mnt/nfs', location: '/mnt/nfs/d4.tar' }]),
    rec('d3', 3, [{ to: s3, location: `${s3}d3.tar` }]),
    rec('d2', 2, [{ to: s3, location: `${s3}d2.tar` }], 'FAILED'),
    rec('d1', 1, [{ to: s3, location: `${s3}d1.tar` }]),
  ];
  const plan = planCopyRetention(records, 's3://bkt/p/', { last: 2 }, 'UTC');
  assert.deepEqual(plan.keep.map((k) => k.record.id), ['d5', 'd3']);
  assert.deepEqual(plan.remove.map((k) => k.record.id), ['d1']);
  assert.deepEqual(plan.keep[0].reasons, ['last 2', 'newest copy at this place (never removed)']);
  const text = describeCopyPlan(plan);
  assert.match(text, /^Copies at s3:\/\/bkt\/p\/; policy: last 2; days, weeks and months in UTC\.$/m);
  assert.match(text, /^remove d1 2026-01-01T02:00:00\.000Z s3:\/\/bkt\/p\/d1\.tar: not the newest copy of any period the policy \(last 2\) keeps$/m);
  assert.match(text, /^1 would be removed, 2 kept\.$/m);
});

test('a local folder: the older copies are deleted and dropped from their records; a record naming a file elsewhere is refused, that file left alone', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ucp-copy-prune-'));
  const outside = mkdtempSync(join(tmpdir(), 'ucp-copy-outside-'));
  try {
    const folder = join(dir, 'nfs');
    const local = new LocalHistory(join(dir, 'state'));
    const { mkdirSync } = await import('node:fs');
    mkdirSync(folder);
    for (const n of ['n3.tar', 'n2.tar']) writeFileSync(join(folder, n), 'x');
    writeFileSync(join(outside, 'victim.tar'), 'precious');
    const records = [rec('n3', 3, [{ to: folder, location: join(folder, 'n3.tar') }]), rec('n2', 2, [{ to: folder, location: join(folder, 'n2.tar') }]), rec('n1', 1, [{ to: folder, location: join(outside, 'victim.tar') }])];
    for (const r of records) await local.put(r);
    const plan = planCopyRetention(records, folder, { last: 1 }, 'UTC');
    const results = await executeCopyPrune(plan, { local });
    assert.deepEqual(results.map((r) => [r.record.id, r.error ? 'refused' : 'removed']), [['n1', 'refused'], ['n2', 'removed']]);
    assert.match(results[0].error!, /not a file directly in .*nfs\/: left alone/);
    assert.ok(existsSync(join(outside, 'victim.tar')), 'nothing outside the place is deleted');
    assert.deepEqual(readdirSync(folder), ['n3.tar']);
    const after = new Map((await local.list()).map((r) => [r.id, (r as RecordWithCopies).copies ?? []]));
    assert.equal(after.get('n2')!.length, 0, 'the removed copy is no longer listed');
    assert.equal(after.get('n3')!.length, 1);
    assert.equal(after.get('n1')!.length, 1, 'a refused one stays listed');
  } finally {
    rmSync(dir, { recursive: true, force: true });
    rmSync(outside, { recursive: true, force: true });
  }
});

test('two backups of one name share one copy (the newer overwrote it): pruning the older drops only its listing, never the kept file', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ucp-copy-shared-'));
  try {
    const local = new LocalHistory(join(dir, 'state'));
    writeFileSync(join(dir, 'nightly.tar'), 'the newer backup');
    const records = [rec('new', 2, [{ to: dir, location: join(dir, 'nightly.tar') }]), rec('old', 1, [{ to: dir, location: join(dir, 'nightly.tar') }])];
    for (const r of records) await local.put(r);
    const plan = planCopyRetention(records, dir, { last: 1 }, 'UTC');
    assert.deepEqual(plan.remove.map((r) => [r.record.id, r.listingOnly]), [['old', true]]);
    assert.match(plan.remove[0].reasons.join('; '), /now holds a newer backup's copy that is kept: only this listing goes/);
    const results = await executeCopyPrune(plan, { local });
    assert.equal(results[0].error, undefined);
    assert.ok(existsSync(join(dir, 'nightly.tar')), 'the kept copy is still there');
    const after = new Map((await local.list()).map((r) => [r.id, (r as RecordWithCopies).copies ?? []]));
    assert.deepEqual([after.get('old')!.length, after.get('new')!.length], [0, 1]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
