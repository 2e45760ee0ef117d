/**
 * The crontab form of a schedule, run by Debian's real cron daemon: `schedule install --cron
 * "* * * * *"` adds one line to root's crontab; cron starts `schedule run-now` at the next
 * minute, which takes a real encrypted backup of the sandbox cluster (the passphrase read from
 * the schedule's 0600 file) and hands the result as JSON to the
 * --notify-command; `status` then sees the schedule and the good backup; `schedule remove`
 * takes the line and the swarm's schedule record away. (Waits for cron's minute: ~30 s.)
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { runCli } from '../helpers/cli';
import { SessionPool } from '../../src/core/ssh/sessionPool';
import { getClusterRecord, removeClusterRecord } from '../../src/core/history/clusterHistory';
import { listClusterSchedules } from '../../src/core/schedule/clusterSchedule';
import type { ScheduleRunResult } from '../../src/core/schedule/runSchedule';
import { CONFIG, PASSPHRASE, workDir, sshDocker, waitForNoLock } from './backupKit';

const pool = new SessionPool();
const { dir, passFile } = workDir('ucp-backup-cron-');
const env = { UCP_BACKUP_STATE_DIR: join(dir, 'state') };
const id = `it-${randomUUID().slice(0, 8)}`;
let cron: ChildProcess | undefined;
let backupId: string | undefined;

function cronRunning(): boolean {
  try {
    process.kill(Number(readFileSync('/run/crond.pid', 'utf8').trim()), 0);
    return true;
  } catch {
    return false;
  }
}

before(async () => {
  await waitForNoLock(await sshDocker(pool, 'manager2'));
});

/**
 * The machine's own cron daemon when it runs; else one of ours for this file only, started
 * once the line is in the crontab, so its first reading of the crontabs already has it.
 */
async function ensureCron(): Promise<void> {
  if (cron || cronRunning()) return;
  cron = spawn('cron', ['-f'], { stdio: 'ignore' });
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(cron.exitCode, null, 'cron started');
}

after(async () => {
  await runCli(['schedule', 'remove', id], { env });
  if (backupId) await removeClusterRecord(await sshDocker(pool, 'manager2'), backupId);
  cron?.kill('SIGTERM');
  pool.closeAll();
  rmSync(dir, { recursive: true, force: true });
});

/**
 * The first run's result. Each run notifies into a file of its own: a run cron starts while a
 * slow first one still holds the backup lock is skipped (exit 3) and must not hide the first.
 */
async function firstResult(ms: number): Promise<ScheduleRunResult> {
  const end = Date.now() + ms;
  for (;;) {
    for (const f of readdirSync(dir).filter((n) => /^notify-\d+\.json$/.test(n))) {
      const text = readFileSync(join(dir, f), 'utf8');
      if (!text.trim().endsWith('}')) continue;
      const r = JSON.parse(text) as ScheduleRunResult;
      if (r.outcome !== 'skipped') return r;
    }
    if (Date.now() > end) throw new Error(`no run of the schedule notified within ${ms / 1000} s (cron did not run it)`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

test('a crontab schedule runs a real backup at the next minute under Debian cron, notifies, shows in status, and is removed', async () => {
  const inst = await runCli(['schedule', 'install', '--config', CONFIG, '--node', 'manager2', '--name', id, '--cron', '* * * * *', '--dir', dir, '--passphrase-file', passFile, '--engine', 'builtin', '--mode', 'cron', '--notify-command', `cat > '${dir}'/notify-$$.json`, '--json'], { env });
  assert.equal(inst.code, 0, `stderr: ${inst.stderr}\nstdout: ${inst.stdout}`);
  const installed = JSON.parse(inst.stdout) as { cronLine: string; recordedInCluster: boolean };
  assert.ok(installed.recordedInCluster, inst.stderr);
  const crontab = execFileSync('crontab', ['-l'], { encoding: 'utf8' });
  assert.ok(crontab.split('\n').includes(installed.cronLine), 'the line is in root\'s crontab');
  assert.ok(!crontab.includes(PASSPHRASE), 'the passphrase is not in the crontab');
  await ensureCron();

  const result = await firstResult(125_000);
  backupId = result.record?.id;
  // Removed at once so cron starts no second run.
  const rm = await runCli(['schedule', 'remove', id], { env });
  assert.equal(rm.code, 0, rm.stderr);
  assert.equal(result.outcome, 'success', result.error);
  assert.equal(result.exitCode, 0);
  assert.equal(result.record?.backupState, 'SUCCESS');
  assert.equal(result.record?.encrypted, true, 'encrypted with the passphrase from the 0600 file');
  assert.match(result.record!.fileName, new RegExp(`^${id}-\\d{8}T\\d{6}Z\\.tar$`));
  assert.ok(existsSync(join(dir, result.record!.fileName)), 'the archive is where the schedule said');
  const log = readFileSync(join(dir, 'state', 'schedules', `${id}.log`), 'utf8');
  assert.match(log, /Schedule it-\w+: success/);

  assert.ok(!execFileSync('crontab', ['-l'], { encoding: 'utf8' }).includes(id), 'remove took the line out');
  assert.equal((await listClusterSchedules(await sshDocker(pool, 'manager2'))).some((s) => s.id === id), false, 'and the swarm record');
});

test('status reads the recorded schedule: on schedule after a good backup, with next due', async () => {
  const inst = await runCli(['schedule', 'install', '--config', CONFIG, '--name', `${id}s`, '--every', 'daily 02:00', '--dir', dir, '--no-passphrase', '--mode', 'systemd', '--unit-dir', join(dir, 'units'), '--no-enable'], { env });
  assert.equal(inst.code, 0, inst.stderr);
  try {
    const st = await runCli(['status', '--config', CONFIG, '--json'], { env });
    const status = JSON.parse(st.stdout) as { overdue: boolean; schedules: { schedule: { id: string; intervalMs: number }; overdue: boolean; nextRunAt: string }[]; lastGood?: { backupState: string } };
    const mine = status.schedules.find((s) => s.schedule.id === `${id}s`);
    assert.ok(mine, st.stdout);
    assert.equal(mine.schedule.intervalMs, 86_400_000);
    assert.equal(mine.overdue, false);
    assert.match(mine.nextRunAt, /T\d\d:00:00\.000Z$/);
    assert.equal(status.lastGood?.backupState, 'SUCCESS');
    const text = await runCli(['status', '--config', CONFIG], { env });
    assert.match(text.stdout, new RegExp(`schedule ${id}s on \\S+@\\S+ \\(systemd, 0 2 \\* \\* \\*, every 24 h at most\\): next `));
  } finally {
    await runCli(['schedule', 'remove', `${id}s`], { env });
  }
  assert.equal((await listClusterSchedules(await sshDocker(pool, 'manager2'))).some((s) => s.id === `${id}s`), false);
});

test('a schedule with --keep-last 1 prunes its own older backup after a good run, and nothing else', async () => {
  const sid = `${id}k`;
  const own = join(dir, 'keep');
  mkdirSync(own);
  // Another backup in the same folder, not the schedule's (another name): never a candidate.
  const other = await runCli(['backup', '--config', CONFIG, '--node', 'manager2', '--engine', 'builtin', '--file', join(own, `manual-${sid}.tar`), '--no-passphrase', '--json'], { env });
  assert.equal(other.code, 0, other.stderr);
  const otherId = (JSON.parse(other.stdout) as { id: string }).id;
  const made: string[] = [otherId];
  try {
    const inst = await runCli(['schedule', 'install', '--config', CONFIG, '--node', 'manager2', '--name', sid, '--every', 'daily 03:00', '--dir', own, '--no-passphrase', '--engine', 'builtin', '--mode', 'systemd', '--unit-dir', join(dir, 'units-k'), '--no-enable', '--keep-last', '1'], { env });
    assert.equal(inst.code, 0, inst.stderr);
    const list = await runCli(['schedule', 'list'], { env });
    assert.match(list.stdout, new RegExp(`^${sid} .* keep last=1$`, 'm'));
    const run = async () => {
      const r = await runCli(['schedule', 'run-now', sid, '--json'], { env });
      const result = JSON.parse(r.stdout) as ScheduleRunResult;
      if (result.record) made.push(result.record.id);
      assert.equal(r.code, 0, `${result.error ?? ''}\n${r.stderr}`);
      return result;
    };
    const first = await run();
    assert.deepEqual(first.pruned, []);
    const second = await run();
    assert.deepEqual(second.pruned, [first.record!.id], 'the older backup of the schedule went');
    assert.ok(!existsSync(join(own, first.record!.fileName)), 'with its file');
    assert.ok(existsSync(join(own, second.record!.fileName)));
    assert.ok(existsSync(join(own, `manual-${sid}.tar`)), 'the manual backup in the same folder stays');
    const docker = await sshDocker(pool, 'manager2');
    assert.equal(await getClusterRecord(docker, first.record!.id), undefined, 'and its record');
    assert.equal((await getClusterRecord(docker, otherId))?.id, otherId);
  } finally {
    await runCli(['schedule', 'remove', sid], { env });
    const docker = await sshDocker(pool, 'manager2');
    for (const m of made) await removeClusterRecord(docker, m).catch(() => undefined);
  }
});
