/**
 * A swarm worker has nothing to back up: it shows as "not-manager", not a crash. Two throwaway
 * dockerds (started here, outside the test swarm) form their own swarm — one manager, one
 * worker — and are reached by their socket paths over manager1's sshd.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadTestbed, tempDir, testNode } from '../helpers/testbed';
import type { ClusterConfig, NodeConfig } from '../../src/core/config';
import { SessionPool } from '../../src/core/ssh/sessionPool';
import { discoverCluster } from '../../src/core/docker/discovery';

const tb = loadTestbed();
const m1 = tb.managers[0];
// Short paths: containerd's sockets under the exec-root must fit in sun_path.
const dir = tempDir('worker-');
// Own swarm addresses and ports, away from the test swarm (127.0.0.1-3:2377, 4789) and from
// connectNodeStates.test.ts (127.0.0.20:2477, 4799).
const MANAGER_ADDR = '127.0.0.21';
const WORKER_ADDR = '127.0.0.22';
const daemons: ChildProcess[] = [];
const pool = new SessionPool();

const sock = (name: string) => join(dir, name, 'docker.sock');
function dk(name: string, ...args: string[]): string {
  return execFileSync('docker', ['-H', `unix://${sock(name)}`, ...args], { encoding: 'utf8', timeout: 60_000 }).trim();
}

async function startDockerd(name: string): Promise<void> {
  const d = join(dir, name);
  mkdirSync(join(d, 'data'), { recursive: true });
  mkdirSync(join(d, 'exec'));
  writeFileSync(join(d, 'daemon.json'), '{}');
  const p = spawn(
    'dockerd',
    ['--config-file', join(d, 'daemon.json'), '-H', `unix://${sock(name)}`, '--data-root', join(d, 'data'), '--exec-root', join(d, 'exec'),
      '--pidfile', join(d, 'dockerd.pid'), '--iptables=false', '--ip-masq=false', '--bridge=none'],
    { stdio: 'ignore' },
  );
  daemons.push(p);
  for (let i = 0; ; i++) {
    if (spawnSync('docker', ['-H', `unix://${sock(name)}`, 'version'], { timeout: 10_000 }).status === 0) return;
    if (i > 240 || p.exitCode !== null) throw new Error(`throwaway dockerd ${name} did not start (exit ${p.exitCode})`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

before(async () => {
  await Promise.all([startDockerd('mgr'), startDockerd('wrk')]);
  dk('mgr', 'swarm', 'init', '--advertise-addr', `${MANAGER_ADDR}:2478`, '--listen-addr', `${MANAGER_ADDR}:2478`, '--data-path-port', '4798');
  const token = dk('mgr', 'swarm', 'join-token', '-q', 'worker');
  dk('wrk', 'swarm', 'join', '--advertise-addr', WORKER_ADDR, '--listen-addr', `${WORKER_ADDR}:2478`, '--token', token, `${MANAGER_ADDR}:2478`);
});

after(async () => {
  pool.closeAll();
  for (const p of daemons.reverse()) {
    if (p.exitCode !== null) continue;
    const exited = new Promise((r) => p.once('exit', r));
    p.kill('SIGTERM');
    await Promise.race([exited, new Promise((r) => setTimeout(r, 30_000).unref())]);
    if (p.exitCode === null) p.kill('SIGKILL');
  }
  // The worker's ingress sandbox leaves its network namespace mounted under the exec-root.
  for (const line of readFileSync('/proc/mounts', 'utf8').split('\n')) {
    const target = line.split(' ')[1];
    if (target?.startsWith(`${dir}/`)) spawnSync('umount', ['-l', target]);
  }
  rmSync(dir, { recursive: true, force: true });
});

/** A node of the throwaway swarm: manager1's sshd, forwarding to that dockerd's socket. */
function node(name: string): NodeConfig {
  return testNode(m1, dir, { name, dockerSocket: sock(name) }, tb);
}

function cluster(...names: string[]): ClusterConfig {
  return { name: 'throwaway', nodes: names.map(node) };
}

test('a swarm worker shows "not-manager" with what it means', async () => {
  const status = await discoverCluster(cluster('wrk'), pool);
  assert.equal(status.managers.length, 1);
  const [m] = status.managers;
  assert.equal(m.state, 'not-manager', m.error);
  assert.match(m.error ?? '', /swarm worker: UCP backups run on a manager/);
  assert.equal(m.role, 'worker');
  assert.equal(m.nodeId, dk('wrk', 'info', '--format', '{{.Swarm.NodeID}}'));
  assert.equal(m.errorName, undefined, 'reached, not failed');
});

test('listed next to its manager, the worker keeps "not-manager" and is not mistaken for a manager', async () => {
  const status = await discoverCluster(cluster('mgr', 'wrk'), pool);
  assert.equal(status.swarmId, dk('mgr', 'info', '--format', '{{.Swarm.Cluster.ID}}'));
  const byName = Object.fromEntries(status.managers.map((m) => [m.name, m]));
  assert.deepEqual(Object.keys(byName).sort(), ['mgr', 'wrk']);
  assert.equal(byName.mgr.state, 'no-ucp', byName.mgr.error);
  assert.equal(byName.mgr.leader, true);
  assert.equal(byName.mgr.address, MANAGER_ADDR);
  assert.equal(byName.wrk.state, 'not-manager', byName.wrk.error);
  assert.equal(byName.wrk.discoveredVia, undefined);
});
