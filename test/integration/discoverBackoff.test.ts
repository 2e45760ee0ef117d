/**
 * A manager whose address swallows packets must not stall every tree refresh for the connect
 * timeout: after a connect failure the pool remembers it, discoveries within
 * retryUnreachableAfterMs report it unreachable at once with that failure, and an explicit
 * refresh (force) tries again. Manager3's sshd listener is frozen (SIGSTOP): TCP connects
 * land in its backlog, no SSH banner ever comes — what a dropping firewall looks like.
 * Counted by the pool's connection attempts, not by timing.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { loadTestbed, tempDir, testNode } from '../helpers/testbed';
import type { ClusterConfig, NodeConfig } from '../../src/core/config';
import { SessionPool, RecentConnectFailureError } from '../../src/core/ssh/sessionPool';
import { discoverCluster, type ClusterStatus, type ManagerStatus } from '../../src/core/docker/discovery';

const tb = loadTestbed();
const [m1, , m3] = tb.managers;
const dir = tempDir('discover-backoff-');
const pools: SessionPool[] = [];
after(() => pools.forEach((p) => p.closeAll()));

function newPool(): SessionPool {
  // A long retry window: within this test, only `force` may try again.
  const p = new SessionPool({ connectTimeoutMs: 1_500, retryUnreachableAfterMs: 10 * 60_000 });
  pools.push(p);
  return p;
}

function node(m: typeof m1, port: number): NodeConfig {
  return testNode(m, dir, { port, dockerSocket: undefined }, tb);
}

function manager3(s: ClusterStatus): ManagerStatus {
  const m = s.managers.find((x) => x.hostname === m3.hostname || x.name === m3.name);
  assert.ok(m, `manager3 in ${s.managers.map((x) => x.name).join(', ')}`);
  return m;
}

/** Runs `fn` with manager3's sshd listener frozen; always thawed. */
async function withFrozenSshd<T>(fn: () => Promise<T>): Promise<T> {
  const listener = Number(readFileSync(m3.sshdPidFile, 'utf8'));
  process.kill(listener, 'SIGSTOP');
  try {
    return await fn();
  } finally {
    process.kill(listener, 'SIGCONT');
  }
}

test('a discovered manager that timed out is reported from memory on the next refresh, and retried when forced', async () => {
  const pool = newPool();
  // Only manager1 is configured (on the common port); manager3 is found in the swarm.
  const cluster: ClusterConfig = { name: 'backoff', nodes: [node(m1, tb.commonSshPort)] };
  const { first, second, forced } = await withFrozenSshd(async () => {
    const first = manager3(await discoverCluster(cluster, pool));
    const second = manager3(await discoverCluster(cluster, pool));
    const forced = manager3(await discoverCluster(cluster, pool, { force: true }));
    return { first, second, forced };
  });
  const m3Node = first.nodeConfig!;
  assert.equal(first.discoveredVia, m1.name);
  assert.equal(first.state, 'unreachable', first.error);
  assert.equal(first.errorName, 'ConnectError');
  assert.match(first.error ?? '', /no SSH handshake within 2 s/);

  // The second discovery did not connect again: same failure, said to be remembered.
  assert.equal(second.state, 'unreachable');
  assert.equal(second.errorName, 'RecentConnectFailureError');
  assert.match(second.error ?? '', /Last attempt failed \d+ s ago: Cannot connect to .*no SSH handshake within 2 s/);
  assert.match(second.error ?? '', /Refresh to try again now/);
  assert.match(second.error ?? '', /SSH settings of manager1/);
  // The forced one did: a new timeout, not the remembered one.
  assert.equal(forced.state, 'unreachable');
  assert.equal(forced.errorName, 'ConnectError');
  assert.equal(pool.connectAttempts(m3Node), 2, 'attempts to manager3: first + forced');

  // manager1 connected once and was never counted again (its session stayed up).
  assert.equal(pool.connectAttempts(cluster.nodes[0]), 1);

  // Thawed: a forced refresh reaches manager3 and clears the memory.
  const back = manager3(await discoverCluster(cluster, pool, { force: true }));
  assert.equal(back.state, 'ok', back.error);
  assert.equal(pool.connectAttempts(m3Node), 3);
  assert.equal(manager3(await discoverCluster(cluster, pool)).state, 'ok');
});

test('a configured node that timed out is remembered too, until Refresh forgets it', async () => {
  const pool = newPool();
  const cluster: ClusterConfig = { name: 'backoff-configured', nodes: [node(m1, m1.sshPort), node(m3, m3.sshPort)] };
  const m3Node = cluster.nodes[1];
  await withFrozenSshd(async () => {
    const first = manager3(await discoverCluster(cluster, pool));
    assert.equal(first.state, 'unreachable', first.error);
    assert.equal(first.errorName, 'ConnectError');
    assert.equal(first.discoveredVia, undefined);
    // Straight from the pool too, the error a backup or CLI would see.
    await assert.rejects(pool.docker(m3Node), (err: unknown) => {
      assert.ok(err instanceof RecentConnectFailureError);
      assert.equal(err.lastError.reason, 'timeout');
      return true;
    });
    const second = manager3(await discoverCluster(cluster, pool));
    assert.equal(second.errorName, 'RecentConnectFailureError');
    assert.match(second.error ?? '', /Last attempt failed \d+ s ago/);
    assert.equal(pool.connectAttempts(m3Node), 1);
  });
  // pool.forgetFailures() is what the tree's Refresh command does.
  pool.forgetFailures();
  const back = manager3(await discoverCluster(cluster, pool));
  assert.equal(back.state, 'ok', back.error);
  assert.equal(pool.connectAttempts(m3Node), 2);
});
