/**
 * What every fault test needs: a backup on manager3 run by the real CLI, with the fault done to
 * it the moment its progress reaches the volumes step (bytes are flowing then), and the checks
 * that a failed run left nothing behind.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdirSync, writeFileSync } from 'node:fs';
import { Agent } from 'node:http';
import { join } from 'node:path';
import Docker from 'dockerode';
import { ROOT, runCli } from '../helpers/cli';
import { HELPER_LABEL } from '../../src/core/engine/dockerStreams';
import { getClusterRecord } from '../../src/core/history/clusterHistory';
import { readLock } from '../../src/core/lock/clusterLock';
import type { BackupRecord } from '../../src/core/history/record';
import { CONFIG, testbedManager, type TestbedManager } from './backupKit';

export const m3 = testbedManager('manager3');
export const m3Docker = new Docker({ socketPath: m3.dockerSocketPath, agent: new Agent({ keepAlive: false }) } as Docker.DockerOptions);

/** A file of random bytes (nothing on the way can shrink it) in one of a manager's UCP volumes (manager3's unless told). */
export function writeFiller(name: string, bytes: number, manager: TestbedManager = m3): string {
  const file = join(manager.dataRoot, 'volumes', 'ucp-client-root-ca', '_data', name);
  const piece = randomBytes(Math.min(bytes, 16 << 20));
  writeFileSync(file, Buffer.alloc(0));
  for (let done = 0; done < bytes; done += piece.length) writeFileSync(file, piece, { flag: 'a' });
  return file;
}

export interface FaultRun {
  code: number | null;
  stdout: string;
  stderr: string;
  /** The fault was done (the volumes step was reached). */
  struck: boolean;
  killedByTest: boolean;
}

/**
 * `ucp-backup backup --node manager3 --json ARGS` (ARGS may name another --node); `strike` runs once, synchronously, when the
 * progress first matches `at` (`[volumes]`). A run that has not ended in `hangMs` hung, and is killed.
 */
export function backupWithFault(args: string[], strike: (cliPid: number) => void, env: NodeJS.ProcessEnv = {}, at = /^\[volumes\]/m, hangMs = 60_000): Promise<FaultRun> {
  return new Promise((resolve) => {
    const node = args.includes('--node') ? [] : ['--node', 'manager3'];
    const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'src', 'cli.ts'), 'backup', '--config', CONFIG, ...node, '--json', ...args], {
      cwd: ROOT,
      env: { ...process.env, ...env },
    });
    let stdout = '';
    let stderr = '';
    let struck = false;
    let killedByTest = false;
    const hang = setTimeout(() => {
      killedByTest = true;
      child.kill('SIGCONT');
      child.kill('SIGKILL');
    }, hangMs);
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => {
      stderr += d;
      if (!struck && at.test(stderr)) {
        struck = true;
        strike(child.pid!);
      }
    });
    child.on('close', (code) => {
      clearTimeout(hang);
      resolve({ code, stdout, stderr, struck, killedByTest });
    });
  });
}

/** A run we killed is not running: break its lock so later tests are not held up, then fail. */
export async function failHung(run: FaultRun): Promise<void> {
  if (!run.killedByTest) return;
  await runCli(['break-lock', '--config', CONFIG]);
  assert.fail(`the CLI hung (killed by the test):\n${run.stderr}`);
}

/**
 * The run failed with exit 1 and left nothing: record FAILED (here and in the swarm), no file
 * with the backup's name nor a partial in `folder` (when it still exists), lock released, no
 * helper or `ucp` container, nothing paused.
 */
export async function assertFailedCleanly(run: FaultRun, name: string, folder: string | undefined): Promise<BackupRecord> {
  assert.equal(run.code, 1, `exit ${run.code}:\n${run.stderr}`);
  const record = JSON.parse(run.stdout) as BackupRecord;
  assert.equal(record.backupState, 'FAILED');
  assert.equal((await getClusterRecord(m3Docker, record.id))?.backupState, 'FAILED');
  if (folder) assert.deepEqual(readdirSync(folder).filter((f) => f.includes(name.replace('.tar', '')) || f.includes('partial')), []);
  assert.notEqual((await readLock(m3Docker))?.backupId, record.id, 'the lock was released');
  // After a lost link dockerd holds a removal until the node's end of the dead attach connection
  // closes (the run bounds its wait and says so); then the removal, or --rm, finishes it.
  const left = async () => [
    ...(await m3Docker.listContainers({ all: true, filters: { label: [`${HELPER_LABEL}=${record.id}`] } })),
    ...(await m3Docker.listContainers({ all: true, filters: { name: ['^/ucp$'] } })),
  ].map((c) => c.Names[0]);
  for (let i = 0; i < 60 && (await left()).length; i++) await new Promise((r) => setTimeout(r, 500));
  assert.deepEqual(await left(), [], 'no helper or ucp container left');
  const paused = await m3Docker.listContainers({ all: true, filters: { status: ['paused'] } });
  assert.deepEqual(paused.map((c) => c.Names[0]), [], 'nothing left paused');
  return record;
}
