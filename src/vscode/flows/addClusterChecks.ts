/**
 * What Add Cluster decides from its connection test, without `vscode` (unit-tested): the swarm
 * is not already a configured cluster (its backups would be listed twice), the node is named
 * by its hostname (not the IP it was reached at), and the swarm's other managers that did not
 * answer on the first node's SSH port are asked for their own endpoint.
 */
import type { NodeConfig } from '../../core/config';
import type { ClusterStatus, ManagerStatus } from '../../core/docker/discovery';

/** The configured cluster that already is this swarm, if any (same swarm ID). */
export function clusterOfSwarm(swarmId: string | undefined, known: Iterable<ClusterStatus>): string | undefined {
  if (!swarmId) return undefined;
  for (const s of known) if (s.swarmId === swarmId) return s.cluster;
  return undefined;
}

/** The node as saved: named by the hostname the engine reports, unless that is taken or absent. */
export function nameByHostname(node: NodeConfig, hostname: string | undefined, taken: readonly string[] = []): NodeConfig {
  if (!hostname || taken.includes(hostname)) return node;
  return { ...node, name: hostname };
}

/** The swarm's other managers the test could not reach over SSH (so their SSH endpoint is asked). */
export function managersToAsk(status: ClusterStatus): ManagerStatus[] {
  return status.managers.filter((m) => m.discoveredVia && m.state !== 'ok' && m.address);
}

/** A discovered manager as a configured node: its own SSH host:port, the first node's user, keys and socket. */
export function nodeForManager(seed: NodeConfig, m: ManagerStatus, target: { host: string; port?: number; username?: string }): NodeConfig {
  const node: NodeConfig = { ...seed, name: m.hostname ?? m.name, host: target.host };
  if (target.port) node.port = target.port;
  else delete node.port;
  if (target.username) node.username = target.username;
  return node;
}
