/**
 * The admin runs backups from cron; one day the CLI is killed in the middle (SIGKILL: OOM
 * killer, reboot) or stopped (SIGTERM: systemd stop, cron timeout). Whatever happens, no
 * file that looks like a backup is left; the lock expires once the owner stops renewing it and
 * the next backup takes it over (a run that wakes after that publishes nothing), or break-lock
 * ends it sooner when its process is gone; the dead run's record ends FAILED, and the next
 * backup to the same place removes the partial file and the leftover helper container.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type Docker from 'dockerode';
import { ROOT, runCli } from '../helpers/cli';
import { SessionPool } from '../../src/core/ssh/sessionPool';
import { HELPER_LABEL } from '../../src/core/engine/dockerStreams';
import { STOPPED_ERROR } from '../../src/core/engine/runBackup';
import { getClusterRecord, updateClusterRecord } from '../../src/core/history/clusterHistory';
import { LocalHistory } from '../../src/core/history/localHistory';
import { readLock } from '../../src/core/lock/clusterLock';
import { ZERO_TIME, type BackupRecord } from '../../src/core/history/record';
import { CONFIG, tarList, workDir, sshDocker, waitForNoLock } from './backupKit';

// A 4 s staleness limit instead of 60 s, for the CLI runs and for readLock in this process.
const STALE_MS = '4000';
process.env.UCP_BACKUP_LOCK_STALE_MS = STALE_MS;

const pool = new SessionPool();
const { dir } = workDir('ucp-backup-crash-');
const stateDir = join(dir, 'state');
const env = { UCP_BACKUP_STATE_DIR: stateDir, UCP_BACKUP_LOCK_STALE_MS: STALE_MS };
// The host-path folder: this testbed's managers share the host's filesystem.
const hostDir = mkdtempSync(join(tmpdir(), 'ucp-backup-crash-host-'));
chownSync(hostDir, 65534, 65534);
const children = new Set<ChildProcessWithoutNullStreams>();

before(async () => waitForNoLock(await sshDocker(pool, 'manager2')));
after(() => {
  for (const c of children) c.kill('SIGKILL');
  pool.closeAll();
  rmSync(dir, { recursive: true, force: true });
  rmSync(hostDir, { recursive: true, force: true });
});

interface Frozen {
  child: ChildProcessWithoutNullStreams;
  stderr: () => string;
  closed: Promise<number | null>;
}

/**
 * Starts `ucp-backup backup ARGS` and waits until it froze at a line matching `freezeAt`
 * (backupCrashFreeze.ts). Retries while a teammate's backup holds the lock (exit 3).
 */
async function startFrozen(docker: Docker, args: string[], freezeAt: string, releaseFile?: string): Promise<Frozen> {
  for (;;) {
    await waitForNoLock(docker);
    const child = spawn(process.execPath, ['--import', 'tsx', '--import', join(__dirname, 'backupCrashFreeze.ts'), join(ROOT, 'src', 'cli.ts'), 'backup', '--config', CONFIG, '--node', 'manager2', '--engine', 'builtin', ...args], {
      cwd: ROOT,
      env: { ...process.env, ...env, UCP_TEST_FREEZE_AT: freezeAt, UCP_TEST_RELEASE_FILE: releaseFile ?? '' },
    });
    children.add(child);
    let stderr = '';
    const closed = new Promise<number | null>((resolve) => child.on('close', resolve));
    const frozen = new Promise<boolean>((resolve) => {
      child.stderr.on('data', (d) => {
        stderr += d;
        if (stderr.includes('FROZEN')) resolve(true);
      });
      void closed.then(() => resolve(false));
    });
    child.stdout.resume();
    if (await frozen) return { child, stderr: () => stderr, closed };
    const code = await closed;
    children.delete(child);
    if (code === 3) continue;
    assert.fail(`the backup ended (exit ${code}) before the freeze point: ${stderr}`);
  }
}

/**
 * `ucp-backup backup` again once our dead run's lock is broken: any lock now is a teammate's
 * live one (with our 4 s limit it may even look stale between its 10 s beats): wait it out.
 */
async function backupAgain(args: string[]) {
  for (;;) {
    const r = await runCli(['backup', '--config', CONFIG, '--node', 'manager2', '--engine', 'builtin', '--json', ...args], { env });
    if (r.code !== 3) return r;
    await waitForNoLock(await sshDocker(pool, 'manager2'));
  }
}

async function helpersOf(docker: Docker, runId: string): Promise<string[]> {
  const list = await docker.listContainers({ all: true, filters: { label: [`${HELPER_LABEL}=${runId}`] } });
  return list.map((c) => `${c.Names[0]} (${c.State})`);
}

/** The partial-file naming: hidden, and says "partial" — never mistaken for a backup. */
function assertOnlyPartials(folder: string, stem: string, runId: string): string[] {
  const ours = readdirSync(folder).filter((n) => n.includes(stem));
  assert.ok(ours.length > 0, 'the killed run had started writing');
  for (const n of ours) assert.match(n, new RegExp(`^\\.${stem}\\.(tar|log)\\.partial-${runId.slice(0, 8)}$`), `${n} is an obvious partial`);
  return ours;
}

/** Runs break-lock on our own dead run's lock only (never a teammate's). */
async function breakOurLock(docker: Docker, runId: string): Promise<void> {
  assert.equal((await readLock(docker))?.backupId, runId, 'the dead run still holds the lock');
  const broken = await runCli(['break-lock', '--config', CONFIG], { env });
  assert.equal(broken.code, 0, broken.stderr);
  assert.match(broken.stdout, /Removed the lock of /);
}

/** If a test failed half-way: leave no lock of ours and no IN_PROGRESS record of ours. */
async function cleanUp(docker: Docker, runId: string | undefined): Promise<void> {
  if (!runId) return;
  const l = await readLock(docker);
  if (l?.backupId === runId) await docker.getConfig(l.configId).remove();
  const rec = await getClusterRecord(docker, runId);
  if (rec?.backupState === 'IN_PROGRESS') await updateClusterRecord(docker, { ...rec, backupState: 'FAILED', shortError: 'killed by a test (cleanup)', completed_at: new Date().toISOString() });
}

test('a run frozen mid-volume loses its lease: the next backup takes the lock over, and the woken run publishes nothing', async () => {
  const docker = await sshDocker(pool, 'manager2');
  const file = join(dir, 'crash.tar');
  const release = join(dir, 'wake-frozen');
  let runId: string | undefined;
  try {
    const run = await startFrozen(docker, ['--file', file, '--no-passphrase', '--include-logs', '--json'], String.raw`^\[volumes\].*: \d+ bytes`, release);
    const lock = await readLock(docker);
    runId = lock?.backupId;
    assert.ok(runId && lock!.pid === run.child.pid, 'the frozen run holds the lock');
    assert.ok((await helpersOf(docker, runId)).length > 0, 'its volume reader exists');

    // Frozen (alive, but not renewing): the lease runs out on the swarm's clock.
    let seen = await readLock(docker);
    while (seen && !seen.expired) {
      await new Promise((r) => setTimeout(r, 250));
      seen = await readLock(docker);
    }
    assert.equal(seen?.backupId, runId);
    assert.equal(seen?.stale, true);
    assert.match(seen!.staleReason ?? '', /^its lease expired: not renewed for \d+ s \(lease 4 s\)/);
    assert.equal(run.child.exitCode, null, 'the owner process is still there, only silent');
    const partials = assertOnlyPartials(dir, 'crash', runId);

    // The next cron run takes the expired lock over by itself (no break-lock), and cleans up.
    const next = await backupAgain(['--file', file, '--no-passphrase', '--include-logs']);
    assert.equal(next.code, 0, next.stderr);
    assert.match(next.stderr, new RegExp(`Took over the lock of \\S+ on \\S+ \\(backup ${runId}, since [^)]+\\): its lease expired`));
    assert.equal((JSON.parse(next.stdout) as BackupRecord).backupState, 'SUCCESS');
    const taken = await getClusterRecord(docker, runId);
    assert.equal(taken?.backupState, 'FAILED');
    assert.match(taken?.shortError ?? '', /^interrupted: its lock expired \(its lease expired/);
    assert.notEqual(taken?.completed_at, ZERO_TIME);
    assert.equal((await new LocalHistory(stateDir).list()).find((r) => r.id === runId)?.backupState, 'FAILED', 'the local copy of the record too');
    for (const p of partials) assert.equal(existsSync(join(dir, p)), false, `${p} was removed`);
    const published = statSync(file);

    // The frozen run wakes: it finds its lock gone and stops; what the next backup published stays.
    writeFileSync(release, '');
    const code = await run.closed;
    assert.equal(code, 1, run.stderr());
    assert.match(run.stderr(), /lost the cluster backup lock \(it was removed while this backup ran\)/);
    const woken = await getClusterRecord(docker, runId);
    assert.equal(woken?.backupState, 'FAILED');
    assert.match(woken?.shortError ?? '', /lost the cluster backup lock/);
    assert.deepEqual(readdirSync(dir).filter((n) => n.includes('crash')).sort(), ['crash.log', 'crash.tar']);
    assert.deepEqual(statSync(file).mtime, published.mtime, 'the woken run did not touch the published backup');
    assert.ok(tarList(file).includes('./ucp-controller-server-certs/key.pem'));
    assert.equal((await readLock(docker))?.backupId, undefined, 'no lock left by either run');
    assert.deepEqual(await helpersOf(docker, runId), [], 'the leftover helper was removed');
    const paused = await docker.listContainers({ all: true, filters: { status: ['paused'] } });
    assert.deepEqual(paused.map((c) => c.Names[0]), []);
  } finally {
    writeFileSync(release, '');
    await cleanUp(docker, runId);
  }
});

test('SIGKILL after the archive was fully written to the host path, before it was published', async () => {
  const docker = await sshDocker(pool, 'manager2');
  const name = 'hostcrash.tar';
  let runId: string | undefined;
  try {
    const run = await startFrozen(docker, ['--host-path', hostDir, '--name', name, '--no-passphrase'], String.raw`^\[write\] 100%`);
    runId = (await readLock(docker))?.backupId;
    assert.ok(runId);
    run.child.kill('SIGKILL');
    await run.closed;
    // Every byte is there, under a name that is obviously not a backup.
    assert.equal(existsSync(join(hostDir, name)), false, 'nothing at the final name');
    const [partial] = assertOnlyPartials(hostDir, 'hostcrash', runId);
    assert.ok(statSync(join(hostDir, partial)).size > 0);
    assert.deepEqual(await helpersOf(docker, runId), [`/ucp-backup-helper-${runId.slice(0, 8)}-writer (running)`], 'its writer helper is left running');

    // The owner process is gone: stale at once (same machine), no need to wait for the heartbeat.
    const lock = await readLock(docker);
    assert.equal(lock?.stale, true);
    await breakOurLock(docker, runId);
    assert.equal((await getClusterRecord(docker, runId))?.backupState, 'FAILED');

    const next = await backupAgain(['--host-path', hostDir, '--name', name, '--no-passphrase']);
    assert.equal(next.code, 0, next.stderr);
    assert.deepEqual(readdirSync(hostDir), [name], 'the partial is gone, the new backup is there');
    assert.equal(statSync(join(hostDir, name)).uid, 65534);
    assert.deepEqual(await helpersOf(docker, runId), [], 'the leftover writer helper was removed');
  } finally {
    await cleanUp(docker, runId);
  }
});

test('SIGKILL inside the etcd and auth-store steps: the next backup removes the snapshot and unpauses ucp-auth-store', async () => {
  const docker = await sshDocker(pool, 'manager2');
  const kvOf = async () => docker.getContainer((await docker.listContainers({ all: true, filters: { name: ['^/ucp-kv$'] } }))[0].Id);
  const authOf = async () => docker.getContainer((await docker.listContainers({ all: true, filters: { name: ['^/ucp-auth-store$'] } }))[0].Id);
  for (const [step, freezeAt] of [
    ['etcd', 'etcd: snapshot saved in ucp-kv at '],
    ['rethinkdb', 'rethinkdb: ucp-auth-store paused'],
  ] as const) {
    let runId: string | undefined;
    try {
      const run = await startFrozen(docker, ['--file', join(dir, `${step}.tar`), '--no-passphrase', '--verbose'], freezeAt);
      runId = (await readLock(docker))?.backupId;
      assert.ok(runId);
      run.child.kill('SIGKILL');
      await run.closed;
      const snapshot = `/tmp/ucp-backup-${runId}.etcd.db`;
      if (step === 'etcd') assert.ok(await (await kvOf()).infoArchive({ path: snapshot }), 'the snapshot is left in ucp-kv');
      else assert.equal((await (await authOf()).inspect()).State.Paused, true, 'ucp-auth-store is left paused');

      await breakOurLock(docker, runId);
      const next = await backupAgain(['--file', join(dir, `${step}.tar`), '--no-passphrase', '--verbose']);
      assert.equal(next.code, 0, next.stderr);
      if (step === 'etcd') await assert.rejects((await kvOf()).infoArchive({ path: snapshot }), /no such file|not found|404/i);
      else {
        assert.equal((await (await authOf()).inspect()).State.Paused, false);
        assert.match(next.stderr, /ucp-auth-store was left paused by an interrupted backup; unpaused it/);
      }
    } finally {
      // Never leave UCP's auth store paused for the teammates, whatever failed above.
      const auth = await authOf();
      if ((await auth.inspect()).State.Paused) await auth.unpause();
      await cleanUp(docker, runId);
    }
  }
});

test('SIGTERM (cron timeout, systemd stop) behaves like Ctrl-C: exit 143, FAILED record, nothing left', async () => {
  const docker = await sshDocker(pool, 'manager2');
  const file = join(dir, 'term.tar');
  const release = join(dir, 'release-term');
  let runId: string | undefined;
  try {
    const run = await startFrozen(docker, ['--file', file, '--no-passphrase', '--include-logs', '--json'], String.raw`^\[volumes\].*: \d+ bytes`, release);
    runId = (await readLock(docker))?.backupId;
    assert.ok(runId);
    // The signal is queued while the process is held mid-volume, then it carries on.
    run.child.kill('SIGTERM');
    writeFileSync(release, '');
    const code = await run.closed;
    assert.equal(code, 143, run.stderr());
    assert.match(run.stderr(), new RegExp(STOPPED_ERROR));
    const rec = await getClusterRecord(docker, runId);
    assert.equal(rec?.backupState, 'FAILED');
    assert.equal(rec?.shortError, STOPPED_ERROR);
    assert.equal((await new LocalHistory(stateDir).list()).find((r) => r.id === runId)?.backupState, 'FAILED');
    assert.deepEqual(readdirSync(dir).filter((n) => n.includes('term.')), [], 'no archive, no log, no partial');
    assert.notEqual((await readLock(docker))?.backupId, runId, 'the lock is released');
    assert.deepEqual(await helpersOf(docker, runId), []);
  } finally {
    await cleanUp(docker, runId);
  }
});
