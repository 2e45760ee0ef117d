/**
 * Retention for cron: `ucp-backup prune --keep N` keeps the N newest successful backups (and
 * the failures newer than the oldest of them), removes older records with their files — on
 * the manager for a host-path backup, here for a local one — and never touches a running
 * backup, a file a newer kept backup overwrote, or a file written on another machine.
 * Everything here carries a unique name prefix, so teammates' backups are never candidates.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { chownSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../helpers/cli';
import { SessionPool } from '../../src/core/ssh/sessionPool';
import { createClusterRecord, getClusterRecord, listClusterRecords, removeClusterRecord } from '../../src/core/history/clusterHistory';
import { LocalHistory } from '../../src/core/history/localHistory';
import { ZERO_TIME, type BackupRecord, type BackupState } from '../../src/core/history/record';
import { CONFIG, workDir, sshDocker, waitForNoLock } from './backupKit';

const pool = new SessionPool();
const { dir } = workDir('ucp-backup-prune-');
const stateDir = join(dir, 'state');
const env = { UCP_BACKUP_STATE_DIR: stateDir };
const P = `prune-${randomUUID().slice(0, 8)}-`;
const hostDir = mkdtempSync(join(tmpdir(), 'ucp-backup-prune-host-'));
chownSync(hostDir, 65534, 65534);

before(async () => waitForNoLock(await sshDocker(pool, 'manager2')));
after(async () => {
  const docker = await sshDocker(pool, 'manager2');
  for (const r of await listClusterRecords(docker)) if (r.fileName.startsWith(P)) await removeClusterRecord(docker, r.id);
  pool.closeAll();
  rmSync(dir, { recursive: true, force: true });
  rmSync(hostDir, { recursive: true, force: true });
});

const minutesAgo = (m: number) => new Date(Date.now() - m * 60_000).toISOString();

/** A record as an earlier run left it, in the swarm and (when `mine`) in this machine's history. */
async function pastRecord(state: BackupState, name: string, created: string, where: { location: 'local' | 'host'; mine?: boolean; log?: boolean; sha256?: string }): Promise<BackupRecord> {
  const r: BackupRecord = {
    id: randomUUID(),
    encrypted: false,
    fileName: `${P}${name}.tar`,
    logFileName: where.log ? `${P}${name}.log` : '',
    backupPath: where.location === 'local' ? dir : hostDir,
    backupState: state,
    nodeLocation: 'manager2',
    shortError: state === 'FAILED' ? 'simulated earlier failure (test)' : '',
    created_at: created,
    completed_at: state === 'IN_PROGRESS' ? ZERO_TIME : created,
    location: where.location,
    cluster: 'demo',
    ...(where.sha256 ? { sha256: where.sha256, size: 11 } : {}),
  };
  await createClusterRecord(await sshDocker(pool, 'manager2'), r);
  if (where.mine) await new LocalHistory(stateDir).put(r);
  return r;
}

/** A real backup through the CLI, waiting out teammates' backups. */
async function backup(args: string[]): Promise<BackupRecord> {
  for (;;) {
    const r = await runCli(['backup', '--config', CONFIG, '--node', 'manager2', '--engine', 'builtin', '--no-passphrase', '--json', ...args], { env });
    if (r.code === 3) {
      await waitForNoLock(await sshDocker(pool, 'manager2'));
      continue;
    }
    assert.equal(r.code, 0, r.stderr);
    return JSON.parse(r.stdout) as BackupRecord;
  }
}

interface PruneJson {
  dryRun: boolean;
  kept: number;
  removed: { record: BackupRecord; files: string[]; note?: string }[];
  failed: unknown[];
}

test('prune --keep 2 removes the older records with their files, and only what is certainly theirs', async () => {
  const docker = await sshDocker(pool, 'manager2');
  // The past, oldest first.
  const localOld = await pastRecord('SUCCESS', 'a', minutesAgo(50), { location: 'local', mine: true, log: true });
  writeFileSync(join(dir, localOld.fileName), 'old archive');
  writeFileSync(join(dir, localOld.logFileName), 'old log');
  const refused = await pastRecord('FAILED', 'c', minutesAgo(40), { location: 'local', mine: true });
  const elsewhere = await pastRecord('SUCCESS', 'x', minutesAgo(35), { location: 'local', mine: false });
  writeFileSync(join(dir, elsewhere.fileName), 'same path, but this machine did not write it');
  const overwritten = await pastRecord('SUCCESS', 'h', minutesAgo(30), { location: 'host' });
  const running = await pastRecord('IN_PROGRESS', 'ip', new Date().toISOString(), { location: 'local', mine: true });
  // Today's real backups: two host-path (one with its log), one local reusing the failed run's name.
  const hostOld = await backup(['--host-path', hostDir, '--name', `${P}old.tar`, '--include-logs']);
  const hostNew = await backup(['--host-path', hostDir, '--name', `${P}h.tar`]);
  const localNew = await backup(['--file', join(dir, `${P}c.tar`)]);
  const recentFailure = await pastRecord('FAILED', 'f', new Date().toISOString(), { location: 'local', mine: true });

  const prune = (...extra: string[]) => runCli(['prune', '--config', CONFIG, '--keep', '2', '--name-prefix', P, ...extra], { env });
  const expected = [localOld, refused, elsewhere, overwritten, hostOld].map((r) => r.id).sort();

  const dry = await prune('--dry-run', '--json');
  assert.equal(dry.code, 0, dry.stderr);
  const plan = JSON.parse(dry.stdout) as PruneJson;
  assert.equal(plan.dryRun, true);
  assert.deepEqual(plan.removed.map((r) => r.record.id).sort(), expected);
  const files = Object.fromEntries(plan.removed.map((r) => [r.record.id, r.files]));
  assert.deepEqual(files[hostOld.id], [`manager2:${hostDir}/${P}old.tar`, `manager2:${hostDir}/${P}old.log`]);
  assert.deepEqual(files[localOld.id], [join(dir, `${P}a.tar`), join(dir, `${P}a.log`)]);
  assert.deepEqual([files[refused.id], files[elsewhere.id], files[overwritten.id]], [[], [], []], 'record only');
  assert.ok(existsSync(join(hostDir, `${P}old.tar`)) && existsSync(join(dir, `${P}a.tar`)), 'a dry run removes nothing');
  assert.ok(await getClusterRecord(docker, hostOld.id));

  const done = await prune();
  assert.equal(done.code, 0, done.stderr);
  for (const id of expected) assert.match(done.stdout, new RegExp(`^removed ${id} `, 'm'));
  assert.equal(done.stdout.trim().split('\n').length, expected.length);
  // Files that were certainly theirs are gone; the rest stay.
  for (const f of [join(dir, `${P}a.tar`), join(dir, `${P}a.log`), join(hostDir, `${P}old.tar`), join(hostDir, `${P}old.log`)]) assert.equal(existsSync(f), false, `${f} removed`);
  for (const f of [join(dir, `${P}c.tar`), join(dir, `${P}x.tar`), join(hostDir, `${P}h.tar`)]) assert.ok(existsSync(f), `${f} kept`);
  // Records: the removed ones are gone from the swarm and from this machine's history.
  for (const id of expected) assert.equal(await getClusterRecord(docker, id), undefined);
  for (const r of [hostNew, localNew, recentFailure, running]) assert.equal((await getClusterRecord(docker, r.id))?.id, r.id);
  const localIds = (await new LocalHistory(stateDir).list()).map((r) => r.id);
  assert.ok(!localIds.includes(localOld.id) && !localIds.includes(refused.id));
  assert.ok(localIds.includes(localNew.id) && localIds.includes(running.id));

  const again = await prune();
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stdout, /^Nothing to prune: 3 record\(s\) kept\.$/m);
});

test('prune refuses a --keep that is not a positive whole number', async () => {
  const r = await runCli(['prune', '--config', CONFIG, '--keep', '0'], { env });
  assert.equal(r.code, 2);
  assert.match(r.stderr, /--keep must be a whole number of 1 or more/);
});

test('prune by policy: --dry-run says for every backup what happens and why, then the same records go; the newest verified one always stays', async () => {
  const docker = await sshDocker(pool, 'manager2');
  const Q = `${P}pol-`;
  const day = (d: number, h = 2) => new Date(Date.UTC(2026, 0, d, h)).toISOString();
  const sum = 'b'.repeat(64);
  // Newest first: two unverified successes (no checksum recorded), then verified ones.
  const recs = {
    jan20b: await pastRecord('SUCCESS', 'pol-20b', day(20, 14), { location: 'local', mine: true }),
    jan20a: await pastRecord('SUCCESS', 'pol-20a', day(20), { location: 'local', mine: true }),
    jan19: await pastRecord('SUCCESS', 'pol-19', day(19), { location: 'local', mine: true, sha256: sum }),
    jan12: await pastRecord('SUCCESS', 'pol-12', day(12), { location: 'local', mine: true, sha256: sum }),
    jan05: await pastRecord('SUCCESS', 'pol-05', day(5), { location: 'local', mine: true, sha256: sum }),
    failOld: await pastRecord('FAILED', 'pol-f', day(4), { location: 'local', mine: true }),
  };
  for (const r of Object.values(recs)) if (r.backupState === 'SUCCESS') writeFileSync(join(dir, r.fileName), 'archive');
  const prune = (...extra: string[]) => runCli(['prune', '--config', CONFIG, '--keep-daily', '1', '--keep-weekly', '2', '--time-zone', 'UTC', '--name-prefix', Q, ...extra], { env });

  const dry = await prune('--dry-run');
  assert.equal(dry.code, 0, dry.stderr);
  const row = (r: BackupRecord) => dry.stdout.split('\n').find((l) => l.includes(r.id)) ?? '';
  assert.match(dry.stdout, /^Policy: daily 1, weekly 2; days, weeks and months in UTC\.$/m);
  assert.match(row(recs.jan20b), /^keep +\S+ SUCCESS +\S+ .*: daily 2026-01-20; weekly 2026-W04$/);
  assert.match(row(recs.jan20a), /^remove .*: not the newest backup of any period the policy \(daily 1, weekly 2\) keeps \(files: .*pol-20a\.tar\)$/);
  assert.match(row(recs.jan19), /^keep .*: newest verified backup \(never removed\)$/);
  assert.match(row(recs.jan12), /^keep .*: weekly 2026-W03$/);
  assert.match(row(recs.jan05), /^remove /);
  assert.match(row(recs.failOld), /^remove .*: failed run older than every kept backup \(record only\)$/);
  assert.match(dry.stdout, /^3 would be removed, 3 kept\.$/m);
  assert.ok(existsSync(join(dir, recs.jan05.fileName)), 'a dry run removes nothing');

  const done = await prune('--json');
  assert.equal(done.code, 0, done.stderr);
  const out = JSON.parse(done.stdout) as PruneJson & { keep: { record: BackupRecord; reasons: string[] }[] };
  const gone = [recs.jan20a, recs.jan05, recs.failOld].map((r) => r.id);
  assert.deepEqual(out.removed.map((r) => r.record.id).sort(), [...gone].sort());
  assert.deepEqual(out.keep.map((k) => k.record.id), [recs.jan20b, recs.jan19, recs.jan12].map((r) => r.id));
  for (const id of gone) assert.equal(await getClusterRecord(docker, id), undefined);
  assert.equal((await getClusterRecord(docker, recs.jan19.id))?.id, recs.jan19.id);
  assert.equal(existsSync(join(dir, recs.jan05.fileName)), false);
  assert.ok(existsSync(join(dir, recs.jan19.fileName)));
});

test('prune refuses a policy that keeps nothing, and says what to give', async () => {
  const r = await runCli(['prune', '--config', CONFIG, '--keep-daily', '0'], { env });
  assert.equal(r.code, 2);
  assert.match(r.stderr, /keeps nothing.*--keep-last N/);
});

test('prune without --keep-* uses the cluster\'s "retention" from the config file; without one it says what to give', async () => {
  const Q = `${P}cfg-`;
  const day = (d: number) => new Date(Date.UTC(2026, 1, d, 2)).toISOString();
  const newer = await pastRecord('SUCCESS', 'cfg-2', day(2), { location: 'local', mine: true, sha256: 'c'.repeat(64) });
  const older = await pastRecord('SUCCESS', 'cfg-1', day(1), { location: 'local', mine: true, sha256: 'c'.repeat(64) });
  const config = JSON.parse(readFileSync(CONFIG, 'utf8')) as { clusters: { retention?: object }[] };
  config.clusters[0].retention = { daily: 1 };
  const withPolicy = join(dir, 'config-retention.json');
  writeFileSync(withPolicy, JSON.stringify(config));
  const dry = await runCli(['prune', '--config', withPolicy, '--time-zone', 'UTC', '--name-prefix', Q, '--dry-run'], { env });
  assert.equal(dry.code, 0, dry.stderr);
  assert.match(dry.stdout, /^Policy: daily 1; days, weeks and months in UTC\.$/m);
  assert.match(dry.stdout.split('\n').find((l) => l.includes(newer.id)) ?? '', /^keep /);
  assert.match(dry.stdout.split('\n').find((l) => l.includes(older.id)) ?? '', /^remove /);
  const none = await runCli(['prune', '--config', CONFIG, '--name-prefix', Q, '--dry-run'], { env });
  assert.equal(none.code, 2);
  assert.match(none.stderr, /Say what to keep/);
});
