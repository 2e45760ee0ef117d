/**
 * The foundation's first path end to end: core code opens SSH to each manager of the test
 * cluster's configuration, forwards to that node's docker.sock, and lists the swarm's three
 * managers with hostnames and leader status. The reference is the swarm's own answer, asked
 * of the local dockerd sockets with the docker CLI (not through our code).
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { loadTestbed } from '../helpers/testbed';
import type { ClusterConfig } from '../../src/core/config';
import { SessionPool } from '../../src/core/ssh/sessionPool';

const tb = loadTestbed();
const cluster = (JSON.parse(readFileSync(tb.clustersFile, 'utf8')) as { clusters: ClusterConfig[] }).clusters.find((c) => c.name === tb.clusterName)!;
const pool = new SessionPool();
after(() => pool.closeAll());

interface ManagerView {
  id: string;
  hostname: string;
  leader: boolean;
}

/** `docker node ls` on one node's local socket. */
function swarmViewByCli(socketPath: string): ManagerView[] {
  const out = execFileSync('docker', ['-H', `unix://${socketPath}`, 'node', 'ls', '--filter', 'role=manager', '--format', '{{.ID}} {{.Hostname}} {{.ManagerStatus}}'], { encoding: 'utf8' });
  return out
    .trim()
    .split('\n')
    .map((l) => l.split(' '))
    .map(([id, hostname, status]) => ({ id, hostname, leader: status === 'Leader' }))
    .sort((a, b) => a.hostname.localeCompare(b.hostname));
}

test('the test cluster configuration names the three managers', () => {
  assert.equal(cluster.nodes.length, 3);
  assert.deepEqual(cluster.nodes.map((n) => n.name), tb.managers.map((m) => m.name));
});

test('each manager, reached over SSH, is its own dockerd and sees the same three managers and one leader', async () => {
  const reference = swarmViewByCli(tb.managers[0].dockerSocketPath);
  assert.equal(reference.length, 3);
  assert.equal(reference.filter((m) => m.leader).length, 1);
  for (const node of cluster.nodes) {
    const tbm = tb.managers.find((m) => m.name === node.name)!;
    const session = pool.get(node);
    const docker = await session.docker();
    const info = await docker.info();
    // Own UTS namespace and own swarm identity: we reached that node, not another one.
    assert.equal(info.Name, tbm.hostname);
    assert.equal(info.Swarm.NodeID, tbm.swarmNodeId);
    assert.equal(info.Swarm.ControlAvailable, true, `${node.name} is a manager`);
    const nodes = (await docker.listNodes({ filters: JSON.stringify({ role: ['manager'] }) })) as {
      ID: string;
      Description: { Hostname: string };
      ManagerStatus?: { Leader?: boolean };
    }[];
    const view = nodes
      .map((n) => ({ id: n.ID, hostname: n.Description.Hostname, leader: n.ManagerStatus?.Leader === true }))
      .sort((a, b) => a.hostname.localeCompare(b.hostname));
    assert.deepEqual(view, reference, `${node.name}'s view over SSH equals the swarm's`);
    assert.deepEqual(view.map((m) => m.hostname), ['manager1', 'manager2', 'manager3']);
    assert.equal(session.handshakes, 1, `${node.name}: one SSH handshake`);
    assert.equal(session.authMethod, `publickey:${node.identityFile}`);
  }
});
