/**
 * The passphrase never leaves the admin's machine (issue 11). For each engine (built-in, and
 * the official image — the FIXTURE docker/ucp:3.2.4) × destination (local file, host path on
 * the manager) × include-logs, a backup with a marker passphrase; then the marker is looked for
 * everywhere it could have gone: every process's argv on this machine (the admin's, and every
 * manager's: this testbed's managers and their containers run here) sampled through the run,
 * `docker inspect` of every container on every manager sampled through the run, each manager's
 * `docker events` of the run, every file of each manager's dockerd data root and exec root
 * (containerd's metadata included), the sandbox's state folders, our history, log and output.
 * The archives still open with real gpg and list with real GNU tar.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { Agent } from 'node:http';
import { join } from 'node:path';
import Docker from 'dockerode';
import { runCli } from '../helpers/cli';
import { TESTBED_DIR } from '../helpers/testbed';
import { deleteBackupFiles } from '../../src/core/docker/hostFiles';
import type { BackupRecord } from '../../src/core/history/record';
import { CONFIG, gpgDecrypt, tarList, testbedManager, waitForNoLock, watchArgv, workDir } from './backupKit';

const MANAGERS = ['manager1', 'manager2', 'manager3'].map((n) => testbedManager(n));
const { dir } = workDir('ucp-backup-secrets-');
const stateDir = join(dir, 'state');
/** One marker per run, so a leak names its run. */
const markers: string[] = [];
const made: BackupRecord[] = [];

/** Straight to a manager's socket on this machine (not through SSH: the watcher must not depend on what it watches). */
function localDocker(socketPath: string): Docker {
  return new Docker({ socketPath, agent: new Agent({ keepAlive: false }) } as Docker.DockerOptions);
}

/**
 * Samples `docker inspect` of every container (running or not) on every manager and records
 * each one that holds `marker`; also collects every manager's `docker events` until stopped.
 */
function watchDocker(marker: string): { stop(): Promise<{ hits: string[]; events: Record<string, number> }> } {
  const hits = new Set<string>();
  const since = Math.floor(Date.now() / 1000) - 1;
  let running = true;
  const sample = async () => {
    while (running) {
      for (const m of MANAGERS) {
        const docker = localDocker(m.dockerSocketPath);
        const list = await docker.listContainers({ all: true }).catch(() => []);
        for (const c of list) {
          const info = await docker.getContainer(c.Id).inspect().catch(() => undefined);
          if (info && JSON.stringify(info).includes(marker)) hits.add(`${m.name}: docker inspect ${info.Name}`);
        }
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  const sampling = sample();
  return {
    async stop() {
      running = false;
      await sampling;
      const until = Math.floor(Date.now() / 1000) + 1;
      const events: Record<string, number> = {};
      for (const m of MANAGERS) {
        const stream = (await localDocker(m.dockerSocketPath).getEvents({ since, until })) as unknown as NodeJS.ReadableStream;
        let text = '';
        for await (const chunk of stream) text += chunk.toString();
        events[m.name] = text.split('\n').filter((l) => l.includes('"Type":"container"')).length;
        if (text.includes(marker)) hits.add(`${m.name}: docker events`);
      }
      return { hits: [...hits], events };
    },
  };
}

/** Files under `roots` whose bytes contain any of `needles` (GNU grep, binary files too). */
function grepFiles(roots: string[], needles: string[]): string[] {
  const patterns = join(dir, 'patterns');
  writeFileSync(patterns, needles.join('\n') + '\n');
  const r = spawnSync('grep', ['-r', '-l', '-a', '-F', '-f', patterns, '--', ...roots], { encoding: 'utf8', maxBuffer: 64 << 20 });
  // grep: 0 = found, 1 = nothing found, 2 = an error (a socket, a file gone meanwhile) — still read what it found.
  return r.stdout.split('\n').filter(Boolean);
}

type Engine = 'builtin' | 'official';
type Dest = 'local' | 'host';

async function backupWithMarker(engine: Engine, dest: Dest, includeLogs: boolean): Promise<void> {
  const marker = `pp-${engine}-${dest}-${includeLogs ? 'log' : 'nolog'}-${randomUUID()}`;
  markers.push(marker);
  const passFile = join(dir, `pass-${markers.length}`);
  writeFileSync(passFile, marker + '\n', { mode: 0o600 });
  const name = `secrets-${markers.length}-${randomUUID().slice(0, 8)}.tar`;
  const node = MANAGERS[markers.length % 3];
  const where = dest === 'local' ? ['--file', join(dir, name)] : ['--host-path', node.backupDir, '--name', name];
  await waitForNoLock(localDocker(node.dockerSocketPath));

  const argv = watchArgv(marker);
  const dockerSide = watchDocker(marker);
  const r = await runCli(['backup', '--config', CONFIG, '--node', node.name, '--engine', engine, ...where, '--passphrase-file', passFile, ...(includeLogs ? ['--include-logs'] : []), '--json', '--verbose'], {
    env: { UCP_BACKUP_STATE_DIR: stateDir },
  });
  const inArgv = argv.stop();
  const { hits: inDocker, events } = await dockerSide.stop();
  assert.equal(r.code, 0, r.stderr);
  const record = JSON.parse(r.stdout) as BackupRecord;
  made.push(record);
  assert.equal(record.engine, engine);
  assert.equal(record.encrypted, true);
  assert.deepEqual(inArgv, [], 'no process on this machine or a manager had the passphrase in its argv');
  assert.deepEqual(inDocker, [], 'no container config or docker event held the passphrase');
  assert.ok(events[node.name] > 0, `the run's container events on ${node.name} were read: ${JSON.stringify(events)}`);
  assert.ok(!r.stdout.includes(marker) && !r.stderr.includes(marker), 'our output (progress, --verbose log, the record) never shows it');
  if (engine === 'official') assert.match(r.stderr, /fixture argv: backup --no-passphrase --jsonlog\n/, 'the image was told --no-passphrase');

  // The archive opens with real gpg and lists with real GNU tar; so does the log.
  const archive = dest === 'local' ? join(dir, name) : join(node.backupDir, name);
  const names = tarList(gpgDecrypt(archive, passFile, dir));
  assert.ok(names.length >= 27 && names.includes('./ucp-controller-server-certs/key.pem'), `${names.length} entries`);
  if (includeLogs) {
    const logFile = join(dest === 'local' ? dir : node.backupDir, record.logFileName);
    const log = gpgDecrypt(logFile, passFile, dir).toString();
    assert.match(log, /validation: engine/, 'the log is ours, encrypted');
    assert.ok(!log.includes(marker), 'the decrypted log never names the passphrase');
  }
}

before(async () => {
  await waitForNoLock(localDocker(MANAGERS[0].dockerSocketPath));
});

after(async () => {
  for (const record of made) {
    if (record.location === 'host') await deleteBackupFiles(localDocker(testbedManager(record.nodeLocation).dockerSocketPath), record).catch(() => undefined);
  }
  rmSync(dir, { recursive: true, force: true });
});

for (const engine of ['builtin', 'official'] as const) {
  for (const dest of ['local', 'host'] as const) {
    for (const includeLogs of [false, true]) {
      test(`${engine} engine, ${dest === 'local' ? 'local file' : 'host path'}${includeLogs ? ', with its log' : ''}: the passphrase is in no argv, container, event or output, and gpg opens the archive`, async () => {
        await backupWithMarker(engine, dest, includeLogs);
      });
    }
  }
}

test('after all of those runs, no file on any manager (dockerd and containerd state) or in our history holds any of the passphrases', async () => {
  assert.equal(markers.length, 8, 'the eight runs above ran');
  const roots = [...MANAGERS.flatMap((m) => [m.dataRoot, m.execRoot, m.backupDir]), stateDir, TESTBED_DIR];
  const leaked = grepFiles(roots, markers).filter((f) => !f.startsWith(join(dir, 'pass-')) && f !== join(dir, 'patterns'));
  assert.deepEqual(leaked, [], `files holding a passphrase:\n${leaked.join('\n')}`);
  // The history as every admin sees it (records in the swarm, and the local state) never holds one.
  const list = await runCli(['list', '--config', CONFIG, '--json'], { env: { UCP_BACKUP_STATE_DIR: stateDir } });
  assert.equal(list.code, 0, list.stderr);
  for (const m of markers) assert.ok(!list.stdout.includes(m));
  assert.ok(readFileSync(join(dir, 'pass-1'), 'utf8').startsWith(markers[0]));
});

test('the scan would see a leak: a container given a passphrase in its command (as `--passphrase X` did) is found in the data root', async () => {
  const control = `pp-control-${randomUUID()}`;
  const m = MANAGERS[0];
  const docker = localDocker(m.dockerSocketPath);
  const c = await docker.createContainer({ Image: 'docker/ucp:3.2.4', Cmd: ['backup', '--passphrase', control], HostConfig: { NetworkMode: 'none' } });
  try {
    const found = grepFiles([m.dataRoot], [control]);
    assert.ok(found.some((f) => f.endsWith('config.v2.json')), `found in: ${found.join(', ') || 'nothing'}`);
  } finally {
    await c.remove({ force: true });
  }
});
