/**
 * Fault: the manager's SSH link freezes in the middle of a transfer (its sshd processes of our
 * connection SIGSTOPped while volume bytes flow; TCP stays up, nothing answers). For each engine
 * and destination: keepalive notices it, the CLI exits non-zero naming the lost connection,
 * never hangs and never exits 0; the record ends FAILED, nothing that looks like a backup is
 * left at the destination, no lock, no helper or `ucp` container, ucp-auth-store not paused.
 * Before the fix this ended in exit 0 with no result, the record IN_PROGRESS and the lock held.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdirSync, rmSync, writeFileSync } from 'node:fs';
import { Agent } from 'node:http';
import { join } from 'node:path';
import Docker from 'dockerode';
import { ROOT, runCli } from '../helpers/cli';
import { serverPidsOf } from '../helpers/testbed';
import { HELPER_LABEL } from '../../src/core/engine/dockerStreams';
import { getClusterRecord } from '../../src/core/history/clusterHistory';
import { readLock } from '../../src/core/lock/clusterLock';
import type { BackupRecord } from '../../src/core/history/record';
import { CONFIG, testbedManager, waitForNoLock, workDir } from './backupKit';

const m3 = testbedManager('manager3');
const { dir, passFile } = workDir('ucp-backup-frozen-');
/** Large enough that the transfer is still running when the link freezes (~1 s at tunnel speed). */
const BIG = 256 << 20;
const bigFile = join(m3.dataRoot, 'volumes', 'ucp-client-root-ca', '_data', 'frozen-link-filler.bin');
const docker = new Docker({ socketPath: m3.dockerSocketPath, agent: new Agent({ keepAlive: false }) } as Docker.DockerOptions);

before(async () => {
  // Written in 16 MiB pieces: random, so nothing on the way can shrink it.
  const piece = randomBytes(16 << 20);
  writeFileSync(bigFile, Buffer.alloc(0));
  for (let i = 0; i < BIG / piece.length; i++) writeFileSync(bigFile, piece, { flag: 'a' });
  await waitForNoLock(docker);
});

after(() => {
  rmSync(bigFile, { force: true });
  rmSync(dir, { recursive: true, force: true });
});

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  frozen: number[];
  killedByTest: boolean;
}

/** `ucp-backup backup` on manager3; when its progress shows `[volumes]`, freeze the sshd processes serving it. */
function backupAndFreeze(args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'src', 'cli.ts'), 'backup', '--config', CONFIG, '--node', 'manager3', '--json', ...args], {
      cwd: ROOT,
      // Keepalive every 500 ms: the loss is noticed in ~2 s instead of ~45 s (same code path).
      env: { ...process.env, UCP_BACKUP_STATE_DIR: join(dir, 'state'), UCP_BACKUP_SSH_KEEPALIVE_MS: '500' },
    });
    let stdout = '';
    let stderr = '';
    let frozen: number[] = [];
    let killedByTest = false;
    // A hang is what this test is about: if the CLI has not ended by itself in 60 s, it hung.
    const hang = setTimeout(() => {
      killedByTest = true;
      child.kill('SIGKILL');
    }, 60_000);
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => {
      stderr += d;
      if (frozen.length === 0 && /^\[volumes\]/m.test(stderr)) {
        frozen = serverPidsOf(child.pid!, m3.host, m3.sshPort);
        for (const pid of frozen) process.kill(pid, 'SIGSTOP');
      }
    });
    child.on('close', (code) => {
      clearTimeout(hang);
      for (const pid of frozen) {
        try {
          process.kill(pid, 'SIGCONT');
        } catch {
          /* gone */
        }
      }
      resolve({ code, stdout, stderr, frozen, killedByTest });
    });
  });
}

for (const engine of ['builtin', 'official'] as const) {
  // Host-path destinations are not in this matrix yet: after the loss, dockerd can hold the
  // removal of the writer helper (its `cat` exec is still attached to the dead connection), so
  // the run's cleanup can wait until the node closes that connection (issue 18, open).
  for (const dest of ['local'] as const) {
    test(`${engine} engine, ${dest === 'local' ? 'local file' : 'host path'}: a link frozen mid-transfer ends FAILED with a non-zero exit naming the lost connection, nothing left behind`, async () => {
      await waitForNoLock(docker);
      const name = `frozen-${engine}-${dest}-${Date.now()}.tar`;
      const where = dest === 'local' ? ['--file', join(dir, name)] : ['--host-path', m3.backupDir, '--name', name];
      const run = await backupAndFreeze(['--engine', engine, ...where, '--passphrase-file', passFile]);
      assert.ok(run.frozen.length > 0, `the link was frozen during the volumes step:\n${run.stderr}`);
      if (run.killedByTest) {
        // Its lock would hold up every later test: break it (a run we killed is not running).
        await runCli(['break-lock', '--config', CONFIG]);
        assert.fail(`the CLI hung (killed after 60 s):\n${run.stderr}`);
      }
      assert.equal(run.code, 1, `exit ${run.code}:\n${run.stderr}`);
      assert.match(run.stderr, /connection to manager3.*(lost|closed|stopped answering)/i, run.stderr);
      const record = JSON.parse(run.stdout) as BackupRecord;
      assert.equal(record.backupState, 'FAILED');
      assert.match(record.shortError, /connection to manager3/i);
      // Seen from the swarm (a new connection; the frozen one is gone): FAILED there too.
      const stored = await getClusterRecord(docker, record.id);
      assert.equal(stored?.backupState, 'FAILED');
      // Nothing that looks like a backup, nor a partial, at the destination.
      const folder = dest === 'local' ? dir : m3.backupDir;
      assert.deepEqual(readdirSync(folder).filter((f) => f.includes(name.replace('.tar', '')) || f.includes('partial')), []);
      assert.notEqual((await readLock(docker))?.backupId, record.id, 'the lock was released');
      const helpers = await docker.listContainers({ all: true, filters: { label: [`${HELPER_LABEL}=${record.id}`] } });
      assert.deepEqual(helpers.map((c) => c.Names[0]), [], 'no helper container left');
      // dockerd holds the official image's removal until the node's end of the dead attach
      // connection closes (here: once the frozen sshd runs again); then --rm finishes it.
      const ucpGone = async () => (await docker.listContainers({ all: true, filters: { name: ['^/ucp$'] } })).length === 0;
      for (let i = 0; i < 60 && !(await ucpGone()); i++) await new Promise((r) => setTimeout(r, 500));
      assert.ok(await ucpGone(), 'no ucp container left');
      const paused = await docker.listContainers({ all: true, filters: { status: ['paused'] } });
      assert.deepEqual(paused.map((c) => c.Names[0]), [], 'nothing left paused');
    });
  }
}
