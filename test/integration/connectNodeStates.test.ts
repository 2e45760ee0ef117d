/**
 * A node with nothing to back up is a clear state, not a crash: a real extra dockerd (started
 * here, outside the test swarm) is reached over manager1's sshd by its socket path — first
 * with swarm mode off ("no-swarm"), then as the manager of its own one-node swarm without
 * UCP ("no-ucp").
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadTestbed, tempDir, testNode } from '../helpers/testbed';
import type { ClusterConfig } from '../../src/core/config';
import { SessionPool } from '../../src/core/ssh/sessionPool';
import { discoverCluster } from '../../src/core/docker/discovery';

const tb = loadTestbed();
const m1 = tb.managers[0];
// Short path: containerd's sockets under the exec-root must fit in sun_path.
const dir = tempDir('plaind-');
const sock = join(dir, 'docker.sock');
// Its own swarm ports, away from the test swarm's 127.0.0.1-3:2377 and 4789.
const SWARM_ADDR = '127.0.0.20';
let dockerd: ChildProcess | undefined;
const pool = new SessionPool();

function plainDocker(...args: string[]): string {
  return execFileSync('docker', ['-H', `unix://${sock}`, ...args], { encoding: 'utf8', timeout: 60_000 });
}

before(async () => {
  mkdirSync(join(dir, 'data'));
  mkdirSync(join(dir, 'exec'));
  writeFileSync(join(dir, 'daemon.json'), '{}');
  dockerd = spawn(
    'dockerd',
    ['--config-file', join(dir, 'daemon.json'), '-H', `unix://${sock}`, '--data-root', join(dir, 'data'), '--exec-root', join(dir, 'exec'),
      '--pidfile', join(dir, 'dockerd.pid'), '--iptables=false', '--ip-masq=false', '--bridge=none'],
    { stdio: 'ignore' },
  );
  for (let i = 0; ; i++) {
    if (spawnSync('docker', ['-H', `unix://${sock}`, 'version'], { timeout: 10_000 }).status === 0) break;
    if (i > 240 || dockerd.exitCode !== null) throw new Error(`the extra dockerd did not start (exit ${dockerd.exitCode})`);
    await new Promise((r) => setTimeout(r, 250));
  }
});

after(async () => {
  pool.closeAll();
  if (dockerd && dockerd.exitCode === null) {
    const exited = new Promise((r) => dockerd!.once('exit', r));
    dockerd.kill('SIGTERM');
    await Promise.race([exited, new Promise((r) => setTimeout(r, 30_000).unref())]);
    if (dockerd.exitCode === null) dockerd.kill('SIGKILL');
  }
  rmSync(dir, { recursive: true, force: true });
});

/** A one-node cluster: manager1's sshd, forwarding to the extra dockerd's socket. */
function cluster(name: string): ClusterConfig {
  return {
    name,
    nodes: [testNode(m1, dir, { name: 'plain', dockerSocket: sock }, tb)],
  };
}

test('an engine without swarm mode shows "no-swarm" with what it means', async () => {
  const status = await discoverCluster(cluster('no-swarm'), pool);
  assert.equal(status.managers.length, 1);
  const [m] = status.managers;
  assert.equal(m.state, 'no-swarm');
  assert.match(m.error ?? '', /Swarm mode is inactive/);
  assert.equal(m.engineVersion, plainDocker('version', '--format', '{{.Server.Version}}').trim());
  assert.equal(m.ucp.installed, false);
  assert.equal(status.ucpVersion, undefined);
});

test('a swarm manager without UCP shows "no-ucp", listed by its own swarm as leader', async () => {
  plainDocker('swarm', 'init', '--advertise-addr', `${SWARM_ADDR}:2477`, '--listen-addr', `${SWARM_ADDR}:2477`, '--data-path-port', '4799');
  const status = await discoverCluster(cluster('no-ucp'), pool);
  assert.equal(status.managers.length, 1);
  const [m] = status.managers;
  assert.equal(m.state, 'no-ucp', m.error);
  assert.match(m.error ?? '', /UCP is not installed/);
  assert.equal(m.leader, true);
  assert.equal(m.address, SWARM_ADDR);
  assert.equal(m.nodeId, plainDocker('info', '--format', '{{.Swarm.NodeID}}').trim());
  assert.equal(m.ucp.installed, false);
  // Both checks went over one SSH connection.
  assert.deepEqual(pool.all().map((s) => s.handshakes), [1]);
});
