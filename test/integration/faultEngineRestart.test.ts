/**
 * Fault: the node's Docker Engine stops under a running backup. The CLI is frozen (SIGSTOP) at
 * the chosen point, the engine is stopped, then the CLI goes on: so the fault lands exactly in
 * that step, every time. Each ends exit 1 naming the engine and the step ("The Docker Engine on
 * manager3 stopped during the etcd step"), not the HTTP 500 "database not open" or the image's
 * "Cancelled" that reached the run; nothing published. (A restart while a volume stream is open
 * cannot be staged this way: dockerd's shutdown waits on the frozen stream until it is killed.) A lock the run could not release while
 * the engine was down expires with its lease; the next backup takes it over and succeeds, and
 * the failed run's record is FAILED in the swarm; no helper left, nothing paused, every UCP
 * container running.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { runCli } from '../helpers/cli';
import { startDocker, stopDocker } from '../helpers/testbed';
import type { BackupRecord } from '../../src/core/history/record';
import { CONFIG, waitForNoLock, workDir } from './backupKit';
import { assertFailedCleanly, backupWithFault, failHung, m3Docker, writeFiller } from './faultKit';

const { dir, passFile } = workDir('ucp-backup-engine-');
let filler = '';
/** A short lease, so a lock left while the engine was down is taken over in seconds. */
const env = { UCP_BACKUP_STATE_DIR: join(dir, 'state'), UCP_BACKUP_LOCK_STALE_MS: '4000' };

before(async () => {
  // Enough that the volume stream is still open (held back by backpressure) when the CLI freezes.
  filler = writeFiller('engine-restart-filler.bin', 64 << 20);
  await waitForNoLock(m3Docker);
});

after(async () => {
  await startDocker('manager3');
  rmSync(filler, { force: true });
  rmSync(dir, { recursive: true, force: true });
});

const cases = [
  // At the step's first line, before its volume streams open (an open one would hold dockerd's shutdown).
  { engine: 'builtin', at: /^\[volumes\]/m, step: 'volumes' },
  { engine: 'builtin', at: /^\[etcd\]/m, step: 'etcd' },
  { engine: 'official', at: /^\[volumes\] Backing up volume/m, step: 'volumes' },
] as const;

for (const c of cases) {
  test(`${c.engine} engine: the Docker Engine stopped during the ${c.step} step fails naming it; the next backup takes over and succeeds`, async () => {
    await waitForNoLock(m3Docker);
    const name = `engine-${c.engine}-${c.step}-${Date.now()}.tar`;
    let fault: Promise<void> = Promise.resolve();
    const run = await backupWithFault(
      ['--engine', c.engine, '--file', join(dir, name), '--passphrase-file', passFile],
      (cliPid) => {
        process.kill(cliPid, 'SIGSTOP');
        fault = (async () => {
          try {
            const t = Date.now();
            await stopDocker('manager3');
            console.log(`# ${c.engine}, ${c.step}: dockerd took ${Date.now() - t} ms to stop`);
          } finally {
            process.kill(cliPid, 'SIGCONT');
          }
        })();
      },
      env,
      c.at,
      180_000,
    );
    await fault;
    assert.ok(run.struck, `the run reached the ${c.step} step:\n${run.stderr}`);
    await failHung(run);
    assert.equal(run.code, 1, run.stderr);
    assert.match(run.stderr, new RegExp(`The Docker Engine on manager3 stopped during the ${c.step} step; the backup is incomplete and nothing was published`), run.stderr);
    assert.doesNotMatch(run.stderr, /\n\s+at /, 'no stack trace');
    await startDocker('manager3');

    // The next backup: takes over a lock left behind (its lease is short here) and succeeds.
    const next = await runCli(['backup', '--config', CONFIG, '--node', 'manager3', '--engine', c.engine, '--file', join(dir, `after-${name}`), '--no-passphrase', '--json'], { env });
    assert.equal(next.code, 0, next.stderr);
    assert.equal((JSON.parse(next.stdout) as BackupRecord).backupState, 'SUCCESS');
    const record = await assertFailedCleanly(run, name, undefined);
    assert.match(record.shortError, /Docker Engine on manager3 stopped/);
    assert.deepEqual(readdirSync(dir).filter((f) => f.includes(name) && !f.startsWith('after-')), [], 'nothing published, no partial');
    // UCP's own containers (not swarm task containers, whose names carry a task ID).
    const ucp = (await m3Docker.listContainers({ all: true, filters: { name: ['^/ucp-'] } })).filter((u) => !u.Names[0].includes('.'));
    assert.ok(ucp.length >= 5, 'the UCP containers are there');
    assert.deepEqual(ucp.filter((u) => u.State !== 'running').map((u) => `${u.Names[0]} ${u.State}`), [], 'every UCP container runs');
  });
}
