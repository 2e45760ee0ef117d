/**
 * What the backup/lock/history/official tests share: the test cluster's config file, a
 * passphrase file, real gpg/tar/etcdctl runs, and waiting out other teammates' backups
 * (the shared cluster has one backup lock; product code never waits, tests do).
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type Docker from 'dockerode';
import { loadConfigFile, type ClusterConfig, type NodeConfig } from '../../src/core/config';
import { SessionPool } from '../../src/core/ssh/sessionPool';
import { readLock } from '../../src/core/lock/clusterLock';
import { ROOT } from '../helpers/cli';

export const CONFIG = join(ROOT, '.testbed', 'clusters.json');
export const PASSPHRASE = 'secret12chars';

export async function cluster(): Promise<ClusterConfig> {
  return (await loadConfigFile(CONFIG)).clusters[0];
}

export async function node(name: string): Promise<NodeConfig> {
  const n = (await cluster()).nodes.find((x) => x.name === name);
  if (!n) throw new Error(`no node ${name} in ${CONFIG}`);
  return n;
}

export { testbedManager, type TestbedManager } from '../helpers/testbed';

export function workDir(prefix: string): { dir: string; passFile: string } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const passFile = join(dir, 'pass');
  writeFileSync(passFile, PASSPHRASE + '\n', { mode: 0o600 });
  return { dir, passFile };
}

/** A dockerode over SSH to a node (the product path). */
export async function sshDocker(pool: SessionPool, name: string): Promise<Docker> {
  return pool.get(await node(name)).docker();
}

/** Waits until no (foreign) backup holds the cluster lock. */
export async function waitForNoLock(docker: Docker, timeoutMs = 180_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    // A lock whose lease ran out is free: the next backup takes it over.
    const lock = await readLock(docker);
    if (!lock || lock.expired) return;
    await new Promise((r) => setTimeout(r, 1000));
  }
  throw new Error('the cluster backup lock stayed held by someone else');
}

export function run(cmd: string, args: string[], input?: Buffer): { status: number | null; stdout: Buffer; stderr: string } {
  const r = spawnSync(cmd, args, { input, maxBuffer: 1 << 30 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr?.toString() ?? '' };
}

/** `gpg --batch --passphrase-file P --decrypt FILE` with real GnuPG; returns the plaintext. */
export function gpgDecrypt(file: string, passFile: string, home: string): Buffer {
  const r = run('gpg', ['--batch', '--quiet', '--homedir', home, '--passphrase-file', passFile, '--decrypt', file]);
  if (r.status !== 0) throw new Error(`gpg --decrypt failed: ${r.stderr}`);
  return r.stdout;
}

/** `tar --list` with real GNU tar, from a buffer or a file. */
export function tarList(input: Buffer | string): string[] {
  const r = typeof input === 'string' ? run('tar', ['--list', '-f', input]) : run('tar', ['--list'], input);
  if (r.status !== 0) throw new Error(`tar --list failed: ${r.stderr}`);
  return r.stdout.toString().split('\n').filter(Boolean);
}

/**
 * Watches the command lines of every process on this machine (the admin's; this testbed's
 * managers run here too) until stopped; returns the ones that contained `secret`.
 */
export function watchArgv(secret: string): { stop(): string[] } {
  const seen = new Set<string>();
  const scan = () => {
    for (const pid of readdirSync('/proc')) {
      if (!/^\d+$/.test(pid)) continue;
      try {
        const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
        if (cmd.includes(secret)) seen.add(`${pid}: ${cmd.replace(/\0/g, ' ')}`);
      } catch {
        // The process ended between readdir and read.
      }
    }
  };
  const timer = setInterval(scan, 20);
  return {
    stop() {
      clearInterval(timer);
      scan();
      return [...seen];
    },
  };
}

/**
 * The real CLI's `backup`, sent `signal` as soon as its progress on stderr shows `marker`
 * (Ctrl-C in the middle of a step). Runs again while a teammate's backup holds the lock (exit 3).
 */
export async function backupInterrupted(
  docker: Docker,
  args: string[],
  env: NodeJS.ProcessEnv,
  marker = '[volumes]',
  signal: NodeJS.Signals = 'SIGINT',
): Promise<{ code: number | null; stdout: string; stderr: string; sent: boolean }> {
  for (;;) {
    await waitForNoLock(docker);
    const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'src', 'cli.ts'), 'backup', ...args], { cwd: ROOT, env: { ...process.env, ...env } });
    let stdout = '';
    let stderr = '';
    let sent = false;
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => {
      stderr += d;
      if (!sent && stderr.includes(marker)) {
        sent = true;
        child.kill(signal);
      }
    });
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    if (code !== 3) return { code, stdout, stderr, sent };
  }
}
