/**
 * Policy retention (src/core/retention): restic's semantics — the newest backup of each period
 * counts, empty periods cost nothing — in a named time zone, with ties decided the same way
 * every time, and the newest verified backup never removed whatever the policy says.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { applyPolicy, checkPolicy, isoWeek, periodKey, planRetention, NEWEST_VERIFIED } from '../../src/core/retention';
import type { BackupRecord, BackupState } from '../../src/core/history/record';

let n = 0;
function rec(created: string, state: BackupState = 'SUCCESS', extra: Partial<BackupRecord> = {}): BackupRecord {
  n++;
  return {
    id: `r${String(n).padStart(3, '0')}`,
    encrypted: true,
    fileName: `b-${n}.tar`,
    logFileName: '',
    backupPath: '/var/backups/ucp',
    backupState: state,
    nodeLocation: 'manager1',
    shortError: state === 'FAILED' ? 'boom' : '',
    created_at: created,
    completed_at: created,
    location: 'host',
    sha256: state === 'SUCCESS' ? 'a'.repeat(64) : undefined,
    size: state === 'SUCCESS' ? 10 : undefined,
    ...extra,
  };
}

const kept = (items: BackupRecord[], policy: Parameters<typeof applyPolicy>[1], tz = 'UTC') =>
  applyPolicy(items, policy, tz)
    .filter((d) => d.keep)
    .map((d) => `${d.item.created_at} ${d.reasons.join('+')}`);

test('keep-daily keeps the newest backup of each of the N newest days that have one', () => {
  const items = [
    rec('2026-12-03T02:00:00Z'),
    rec('2026-12-03T14:00:00Z'),
    rec('2026-12-02T02:00:00Z'),
    rec('2026-11-28T02:00:00Z'), // days 11-29 .. 12-01 are empty: they cost no slot
    rec('2026-11-27T23:59:59Z'),
    rec('2026-11-27T00:00:00Z'),
  ];
  assert.deepEqual(kept(items, { daily: 4 }), [
    '2026-12-03T14:00:00Z daily 2026-12-03',
    '2026-12-02T02:00:00Z daily 2026-12-02',
    '2026-11-28T02:00:00Z daily 2026-11-28',
    '2026-11-27T23:59:59Z daily 2026-11-27',
  ]);
});

test('rules combine: a backup kept by several lists every reason; keep-last counts every backup', () => {
  const items = [rec('2026-12-03T14:00:00Z'), rec('2026-12-03T02:00:00Z'), rec('2026-12-01T02:00:00Z'), rec('2026-11-30T02:00:00Z'), rec('2026-10-15T02:00:00Z')];
  assert.deepEqual(kept(items, { last: 2, daily: 2, weekly: 2, monthly: 3 }), [
    '2026-12-03T14:00:00Z last 2+daily 2026-12-03+weekly 2026-W49+monthly 2026-12',
    '2026-12-03T02:00:00Z last 2',
    '2026-12-01T02:00:00Z daily 2026-12-01',
    // 11-30 is a Monday, in 12-03's ISO week (no second weekly slot), and November's newest backup.
    '2026-11-30T02:00:00Z monthly 2026-11',
    '2026-10-15T02:00:00Z weekly 2026-W42+monthly 2026-10',
  ]);
});

test('ISO weeks: Monday starts a week; the first Thursday decides week 1 across the new year', () => {
  assert.deepEqual(isoWeek({ year: 2026, month: 12, day: 31 }), { year: 2026, week: 53 });
  assert.deepEqual(isoWeek({ year: 2027, month: 1, day: 3 }), { year: 2026, week: 53 });
  assert.deepEqual(isoWeek({ year: 2027, month: 1, day: 4 }), { year: 2027, week: 1 });
  assert.deepEqual(isoWeek({ year: 2024, month: 12, day: 30 }), { year: 2025, week: 1 });
  assert.equal(periodKey(new Date('2026-11-29T23:00:00Z'), 'week', 'UTC'), '2026-W48'); // Sunday
  assert.equal(periodKey(new Date('2026-11-30T00:00:00Z'), 'week', 'UTC'), '2026-W49'); // Monday
});

test('days are counted in the given time zone, not in UTC', () => {
  // 23:30 UTC on Dec 2 is already Dec 3 in Berlin, and still Dec 2 in New York.
  const items = [rec('2026-12-02T23:30:00Z'), rec('2026-12-02T12:00:00Z')];
  assert.deepEqual(kept(items, { daily: 5 }, 'UTC').length, 1);
  assert.deepEqual(kept(items, { daily: 5 }, 'Europe/Berlin'), ['2026-12-02T23:30:00Z daily 2026-12-03', '2026-12-02T12:00:00Z daily 2026-12-02']);
  assert.deepEqual(kept(items, { daily: 5 }, 'America/New_York').length, 1);
  // Months too: 1 Dec 03:00 UTC is still November in Los Angeles.
  assert.equal(periodKey(new Date('2026-12-01T03:00:00Z'), 'month', 'America/Los_Angeles'), '2026-11');
  // A DST day (Berlin, 25 Oct 2026, 25 hours long) is one day: 00:30 CEST and 23:30 CET are both in it.
  assert.deepEqual(kept([rec('2026-10-25T22:30:00Z'), rec('2026-10-24T22:30:00Z'), rec('2026-10-24T21:59:00Z')], { daily: 9 }, 'Europe/Berlin'), [
    '2026-10-25T22:30:00Z daily 2026-10-25',
    '2026-10-24T21:59:00Z daily 2026-10-24',
  ]);
});

test('ties: equal start times are ordered by completion, then id, the same way every time', () => {
  const a = rec('2026-12-03T02:00:00Z', 'SUCCESS', { completed_at: '2026-12-03T02:05:00Z' });
  const b = rec('2026-12-03T02:00:00Z', 'SUCCESS', { completed_at: '2026-12-03T02:09:00Z' });
  const c = rec('2026-12-03T02:00:00.000Z', 'SUCCESS', { completed_at: '2026-12-03T02:09:00Z' });
  for (const order of [[a, b, c], [c, b, a], [b, a, c]]) {
    const d = applyPolicy(order, { daily: 1 }, 'UTC').filter((x) => x.keep);
    assert.deepEqual(d.map((x) => x.item.id), [c.id], 'same completion: the higher id; both beat the earlier completion');
  }
});

test('an empty history and a policy that keeps nothing', () => {
  assert.deepEqual(applyPolicy([], { daily: 7 }, 'UTC'), []);
  assert.throws(() => checkPolicy({}), /keeps nothing/);
  assert.throws(() => checkPolicy({ daily: 0, last: 0 }), /keeps nothing/);
  assert.throws(() => checkPolicy({ daily: 1.5 }), /--keep-daily must be a whole number/);
  assert.throws(() => checkPolicy({ weekly: -1 }), /--keep-weekly must be a whole number/);
  assert.throws(() => planRetention([], { policy: { daily: 1 }, mine: new Set(), timeZone: 'Mars/Olympus' }), /Unknown time zone/);
  const plan = planRetention([], { policy: { daily: 1 }, mine: new Set(), timeZone: 'UTC' });
  assert.deepEqual([plan.remove, plan.kept], [[], []]);
});

test('the newest verified backup stays whatever the policy says', () => {
  // The two newest succeeded but carry no checksum (not verified); the policy would keep only them.
  const unverified1 = rec('2026-12-03T02:00:00Z', 'SUCCESS', { sha256: undefined });
  const unverified2 = rec('2026-12-02T02:00:00Z', 'SUCCESS', { sha256: undefined });
  const verified = rec('2026-12-01T02:00:00Z');
  const older = rec('2026-11-30T02:00:00Z');
  const plan = planRetention([older, verified, unverified2, unverified1], { policy: { last: 2 }, mine: new Set(), timeZone: 'UTC' });
  assert.deepEqual(plan.kept.map((k) => [k.record.id, k.reasons]), [
    [unverified1.id, ['last 2']],
    [unverified2.id, ['last 2']],
    [verified.id, [NEWEST_VERIFIED]],
  ]);
  assert.deepEqual(plan.remove.map((r) => r.record.id), [older.id]);
  assert.match(plan.remove[0].reason, /not the newest backup of any period the policy \(last 2\) keeps/);
});

test('failures newer than the oldest kept backup stay, older ones go as records only; running backups are never candidates', () => {
  const oldFail = rec('2026-11-01T02:00:00Z', 'FAILED');
  const oldOk = rec('2026-11-02T02:00:00Z');
  const ok = rec('2026-12-01T02:00:00Z');
  const newFail = rec('2026-12-02T02:00:00Z', 'FAILED');
  const running = rec('2026-12-03T02:00:00Z', 'IN_PROGRESS');
  const plan = planRetention([running, newFail, ok, oldOk, oldFail], { policy: { daily: 1 }, mine: new Set(), timeZone: 'UTC' });
  assert.deepEqual(plan.running.map((r) => r.id), [running.id]);
  assert.deepEqual(plan.kept.map((k) => k.record.id), [newFail.id, ok.id]);
  assert.deepEqual(plan.remove.map((r) => [r.record.id, r.reason, r.files]), [
    [oldFail.id, 'failed run older than every kept backup', []],
    [oldOk.id, 'not the newest backup of any period the policy (daily 1) keeps', ['manager1:/var/backups/ucp/' + oldOk.fileName]],
  ]);
});

test('scope: a name prefix and a destination limit what the policy sees', () => {
  const a = rec('2026-12-03T02:00:00Z', 'SUCCESS', { fileName: 'nightly-1.tar' });
  const b = rec('2026-12-02T02:00:00Z', 'SUCCESS', { fileName: 'nightly-2.tar' });
  const other = rec('2026-12-01T02:00:00Z', 'SUCCESS', { fileName: 'manual.tar' });
  const elsewhere = rec('2026-11-01T02:00:00Z', 'SUCCESS', { fileName: 'nightly-3.tar', backupPath: '/srv/b' });
  const p = planRetention([a, b, other, elsewhere], { policy: { last: 1 }, namePrefix: 'nightly-', destination: 'manager1:/var/backups/ucp/', mine: new Set(), timeZone: 'UTC' });
  assert.deepEqual(p.kept.map((k) => k.record.id), [a.id]);
  assert.deepEqual(p.remove.map((r) => r.record.id), [b.id]);
});

test('a policy typed as text reads back as the same text; words that are no rule are refused with the rule names', async () => {
  const { parsePolicyText, policyText } = await import('../../src/core/retention');
  assert.deepEqual(parsePolicyText('daily=7 weekly=4'), { daily: 7, weekly: 4 });
  assert.deepEqual(parsePolicyText(' keep-last=3,monthly=6 '), { last: 3, monthly: 6 });
  assert.equal(policyText(parsePolicyText('monthly=6 last=3 daily=7')), 'last=3 daily=7 monthly=6');
  assert.throws(() => parsePolicyText('hourly=5'), /"hourly=5" is not a retention rule/);
  assert.throws(() => parsePolicyText('daily=7 daily=3'), /daily is given twice/);
  assert.throws(() => parsePolicyText('daily=0'), /keeps nothing/);
  assert.throws(() => parsePolicyText('   '), /Say what to keep/);
  assert.throws(() => parsePolicyText('daily=-1'), /not a retention rule/);
});

test('the preview lists every backup in scope newest first with keep/remove and why, and the totals', async () => {
  const { describePlan } = await import('../../src/core/retention');
  const items = [rec('2026-12-03T02:00:00Z'), rec('2026-12-02T02:00:00Z'), rec('2026-12-01T02:00:00Z'), rec('2026-12-01T01:00:00Z', 'FAILED')];
  const plan = planRetention(items, { policy: { last: 1 }, mine: new Set(), timeZone: 'UTC' });
  const lines = describePlan(plan).trimEnd().split('\n');
  assert.equal(lines[0], 'Policy: last 1; days, weeks and months in UTC.');
  assert.deepEqual(lines.slice(1, 5).map((l) => l.split(' ')[0] + ' ' + l.split(/\s+/)[1]), [`keep ${items[0].id}`, `remove ${items[1].id}`, `remove ${items[2].id}`, `remove ${items[3].id}`]);
  assert.match(lines[1], new RegExp(NEWEST_VERIFIED.replace(/[()]/g, '\\$&')));
  assert.match(lines[2], /\(files: manager1:\/var\/backups\/ucp\/b-\d+\.tar\)/);
  assert.match(lines[4], /\(record only\)/);
  assert.equal(lines[5], '3 would be removed, 1 kept.');
});

test('the preview says when a removed backup has off-site copies: they stay, and how to prune them', async () => {
  const { describePlan } = await import('../../src/core/retention');
  const items = [rec('2026-12-03T02:00:00Z'), { ...rec('2026-12-02T02:00:00Z'), copies: [{ to: 's3://bkt/p/', location: 's3://bkt/p/old.tar', size: 1, sha256: 'a'.repeat(64), copiedAt: '2026-12-02T03:00:00Z', checkedAt: '2026-12-02T03:00:00Z', checkedBy: 'read back' }] } as BackupRecord];
  const text = describePlan(planRetention(items, { policy: { last: 1 }, mine: new Set(), timeZone: 'UTC' }));
  assert.match(text, new RegExp(`^remove ${items[1].id} .*; its copies stay: s3://bkt/p/old\\.tar \\(prune --copies-at removes copies\\)$`, 'm'));
});
