/**
 * A drill killed with SIGKILL (a crash, `kill -9`, the OOM killer) runs no `finally`: its
 * local etcd member must still die with it (tiedProcess.ts), and the next drill removes the
 * temp dir with the decrypted snapshot it left (drillDirs.ts).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { once } from 'node:events';
import { ROOT } from '../helpers/cli';
import { tempDir } from '../helpers/archives';
import { realEtcdSnapshot } from '../helpers/etcd';
import { removeDeadDrillDirs } from '../../src/core/drill/drillDirs';

let dir: string;
let snapshot: string;

before(async () => {
  dir = tempDir('ucp-drilltied-');
  snapshot = join(dir, 'snap.db');
  writeFileSync(snapshot, (await realEtcdSnapshot()).data);
});
after(() => rmSync(dir, { recursive: true, force: true }));

/** Pids of etcd processes (argv[0] etcd: not the shell that started it) whose command line names `needle`. */
function etcdsNaming(needle: string): number[] {
  return readdirSync('/proc')
    .filter((p) => /^\d+$/.test(p))
    .filter((p) => {
      try {
        const argv = readFileSync(`/proc/${p}/cmdline`, 'utf8').split('\0');
        return /(^|\/)etcd$/.test(argv[0]) && argv.some((a) => a.includes(needle));
      } catch {
        return false;
      }
    })
    .map(Number);
}

/** Running, not gone and not a zombie waiting for its reaper (PID 1 in a container may be slow to reap). */
function alive(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

test('a SIGKILLed drill takes its etcd member with it; the next drill removes the temp dir it left', async (t) => {
  const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'test', 'helpers', 'drillMemberChild.ts'), snapshot], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
  const [line] = (await once(createInterface({ input: child.stdout! }), 'line')) as [string];
  const [, drillDir, url] = line.split(' ');
  const etcd = etcdsNaming(join(drillDir, 'etcd-data'));
  t.after(() => {
    // A failing run must not leave its member or dir to the next test either.
    for (const pid of etcd.filter(alive)) process.kill(pid, 'SIGKILL');
    rmSync(drillDir, { recursive: true, force: true });
  });
  assert.equal(etcd.length, 1, 'the member runs');
  assert.ok((await fetch(`${url}/health`)).ok, 'and answers');

  const gone = once(child, 'exit');
  child.kill('SIGKILL');
  await gone;
  // The member's watcher sees the pipe close and kills it; wait for that, bounded.
  const deadline = Date.now() + 15_000;
  while (alive(etcd[0]) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  assert.ok(!alive(etcd[0]), 'the etcd member died with the drill');
  await assert.rejects(fetch(`${url}/health`, { signal: AbortSignal.timeout(2000) }), 'nothing answers on its port');

  assert.ok(existsSync(drillDir), 'SIGKILL left the temp dir');
  const removed = await removeDeadDrillDirs();
  assert.ok(removed.some((n) => drillDir.endsWith(n)), removed.join(', '));
  assert.ok(!existsSync(drillDir), 'the next drill removed it');
});
