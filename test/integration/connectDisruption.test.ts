/**
 * Managers go away and come back: the session notices a dropped (or silently dead)
 * connection and reopens it on next use, and a manager whose Docker Engine is stopped
 * shows as unreachable. Only manager3 is disturbed, and it is always restored.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { loadTestbed, serverPidsOf, startDocker, startSshd, stopDocker, stopSshd } from '../helpers/testbed';
import type { ClusterConfig } from '../../src/core/config';
import { NodeSession } from '../../src/core/ssh/nodeSession';
import { SessionPool } from '../../src/core/ssh/sessionPool';
import { ConnectError } from '../../src/core/ssh/errors';
import { discoverCluster, type ClusterStatus } from '../../src/core/docker/discovery';

const tb = loadTestbed();
const m3 = tb.managers[2];
const cluster = (JSON.parse(readFileSync(tb.clustersFile, 'utf8')) as { clusters: ClusterConfig[] }).clusters.find((c) => c.name === tb.clusterName)!;
const m3Config = cluster.nodes.find((n) => n.name === m3.name)!;
const cleanup: (() => void)[] = [];
after(() => cleanup.forEach((f) => f()));

/** Per-connection sshd processes are children of the listener; they outlive a stopped listener. */
function sshdChildren(listenerPid: number): number[] {
  const pids: number[] = [];
  for (const p of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      const stat = readFileSync(`/proc/${p}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === listenerPid) pids.push(Number(p));
    } catch {
      /* exited meanwhile */
    }
  }
  return pids;
}

async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 90_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 1000));
  }
}

test('sshd killed mid-session: the next call fails clearly, and after the restart it reconnects', async () => {
  const s = new NodeSession(m3Config, { keepaliveIntervalMs: 1000 });
  cleanup.push(() => s.close());
  const docker = await s.docker();
  await docker.ping();
  assert.equal(s.handshakes, 1);
  const listener = Number(readFileSync(m3.sshdPidFile, 'utf8'));
  const children = sshdChildren(listener);
  try {
    await stopSshd(m3.name);
    for (const pid of children) {
      try {
        process.kill(pid, 'SIGTERM');
      } catch {
        /* already gone */
      }
    }
    await waitFor('the session to notice the dropped connection', async () => (s.isConnected ? undefined : true), 20_000);
    await assert.rejects(docker.ping(), (err: Error) => err instanceof ConnectError && err.reason === 'refused');
  } finally {
    await startSshd(m3.name);
  }
  // Same Dockerode instance, new SSH connection.
  await docker.ping();
  assert.equal((await docker.info()).Swarm.NodeID, m3.swarmNodeId);
  assert.equal(s.handshakes, 2);
});

test('a connection that silently stops answering is noticed by keepalive and reopened on next use', async () => {
  const s = new NodeSession(m3Config, { keepaliveIntervalMs: 500 });
  cleanup.push(() => s.close());
  const docker = await s.docker();
  await docker.ping();
  // Freeze the sshd processes serving this test's connections: TCP stays up, SSH goes silent.
  const frozen = serverPidsOf(process.pid, m3.host, m3.sshPort);
  assert.ok(frozen.length > 0, 'found the sshd processes of our connection');
  try {
    frozen.forEach((pid) => process.kill(pid, 'SIGSTOP'));
    await waitFor('keepalive to give up on the silent connection', async () => (s.isConnected ? undefined : true), 20_000);
  } finally {
    frozen.forEach((pid) => {
      try {
        process.kill(pid, 'SIGCONT');
      } catch {
        /* gone */
      }
    });
  }
  await docker.ping();
  assert.equal(s.handshakes, 2);
});

test('a manager whose Docker Engine is stopped shows as unreachable, the others stay reachable', async () => {
  const pool = new SessionPool();
  cleanup.push(() => pool.closeAll());
  let status: ClusterStatus;
  try {
    await stopDocker(m3.name);
    status = await waitFor('the swarm to mark manager3 unreachable', async () => {
      const st = await discoverCluster(cluster, pool);
      const m = st.managers.find((x) => x.name === m3.name);
      return m?.reachability === 'unreachable' ? st : undefined;
    });
  } finally {
    await startDocker(m3.name);
  }
  const byName = Object.fromEntries(status.managers.map((m) => [m.name, m]));
  assert.equal(byName.manager3.state, 'unreachable');
  assert.match(byName.manager3.error ?? '', /dockerd|Docker/);
  assert.equal(byName.manager3.errorName, 'DockerSocketNotFoundError');
  for (const name of ['manager1', 'manager2']) assert.equal(byName[name].state, 'ok', `${name}: ${byName[name].error}`);
  // The SSH connections of the whole polling loop: one per node.
  for (const s of pool.all()) assert.equal(s.handshakes, 1, `${s.name} handshakes`);
});
