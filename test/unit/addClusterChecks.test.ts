/**
 * Add Cluster (issue 15): the same swarm is never added twice, a node is named by its
 * hostname, managers found in the swarm that did not answer on the first node's SSH port are
 * asked for their own endpoint, and their tree row / tooltip tell the truth about it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ClusterStatus, ManagerStatus } from '../../src/core/docker/discovery';
import { clusterOfSwarm, managersToAsk, nameByHostname, nodeForManager } from '../../src/vscode/flows/addClusterChecks';
import { nodeKind, nodePresentation } from '../../src/vscode/tree/presentation';

const ucp = { installed: true, version: '3.2.4', namespace: 'docker' as const, containers: [], volumes: [] };
const seed = { name: '127.0.0.1', host: '127.0.0.1', port: 2201, username: 'root', identityFile: '/keys/id', knownHostsFile: '/keys/known_hosts' };
const status = (cluster: string, swarmId: string | undefined, managers: ManagerStatus[] = []): ClusterStatus => ({ cluster, swarmId, managers, checkedAt: '' });

test('a swarm already configured as a cluster is found by its swarm ID, and only then', () => {
  const known = [status('demo', 'swarm-A'), status('other', 'swarm-B'), status('down', undefined)];
  assert.equal(clusterOfSwarm('swarm-A', known), 'demo');
  assert.equal(clusterOfSwarm('swarm-C', known), undefined);
  assert.equal(clusterOfSwarm(undefined, known), undefined, 'an unknown ID matches nothing (not the cluster that is down)');
});

test('the node is named by its hostname, not the address it was reached at', () => {
  assert.equal(nameByHostname(seed, 'manager1').name, 'manager1');
  assert.equal(nameByHostname(seed, 'manager1').host, '127.0.0.1', 'still reached at the same address');
  assert.equal(nameByHostname(seed, undefined).name, '127.0.0.1');
  assert.equal(nameByHostname(seed, 'manager1', ['manager1']).name, '127.0.0.1', 'never two nodes of one name');
});

test('managers found in the swarm but not reached over SSH are asked for; the answer keeps the first node\'s keys', () => {
  const reached: ManagerStatus = { name: 'manager2', hostname: 'manager2', address: '127.0.0.2', leader: false, ucp, state: 'ok', discoveredVia: '127.0.0.1', reachability: 'reachable' };
  const missed: ManagerStatus = { name: 'manager3', hostname: 'manager3', address: '127.0.0.3', leader: false, ucp, state: 'unreachable', discoveredVia: '127.0.0.1', reachability: 'reachable', nodeConfig: { ...seed, name: 'manager3', host: '127.0.0.3' } };
  const own: ManagerStatus = { name: 'manager1', hostname: 'manager1', leader: true, ucp, state: 'ok', nodeConfig: seed };
  assert.deepEqual(managersToAsk(status('new', 'swarm-A', [own, reached, missed])).map((m) => m.name), ['manager3']);
  const node = nodeForManager(nameByHostname(seed, 'manager1'), missed, { host: '127.0.0.3', port: 2203 });
  assert.deepEqual(node, { ...seed, name: 'manager3', host: '127.0.0.3', port: 2203 });
  assert.equal(nodeForManager(seed, missed, { host: 'm3.example.com' }).port, undefined, 'no port given: ssh\'s default, not the first node\'s');
});

test('a discovered manager not reached over SSH is "not connected", and its tooltip never says "reached"', () => {
  const missed: ManagerStatus = { name: 'manager3', hostname: 'manager3', address: '127.0.0.3', leader: false, ucp: { installed: false, containers: [], volumes: [] }, state: 'unreachable', discoveredVia: 'manager1', reachability: 'reachable', nodeConfig: { ...seed, name: 'manager3', host: '127.0.0.3' }, error: 'connect ECONNREFUSED' };
  assert.equal(nodeKind(missed), 'notConnected');
  const p = nodePresentation(missed);
  assert.doesNotMatch(p.tooltip, /\breached at/);
  assert.match(p.tooltip, /tried at 127\.0\.0\.3:2201 with manager1's SSH settings, not reached\. The swarm reports it reachable\. Add it to the cluster's nodes with its own SSH port\./);
  assert.notEqual(p.color, 'errorForeground');
  // The swarm itself lost it: red, as before.
  assert.equal(nodeKind({ ...missed, reachability: 'unreachable' }), 'unreachable');
});
