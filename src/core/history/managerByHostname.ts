/**
 * The Docker API of a cluster's manager by its hostname (a host-path record's nodeLocation):
 * what removes a host-path archive on the node that holds it (prune, a schedule's retention).
 */
import type Docker from 'dockerode';
import type { ClusterConfig } from '../config';
import { UcpError } from '../errors';
import type { SessionPool } from '../ssh/sessionPool';

/** Docker of the manager whose hostname (a record's nodeLocation) is `hostname`. */
export function managerByHostname(cluster: ClusterConfig, pool: SessionPool): (hostname: string) => Promise<Docker> {
  const found = new Map<string, Docker>();
  return async (hostname) => {
    const hit = found.get(hostname);
    if (hit) return hit;
    // Config names usually are the hostnames; otherwise ask each manager its name.
    const byName = cluster.nodes.find((n) => n.name === hostname);
    for (const n of byName ? [byName, ...cluster.nodes.filter((x) => x !== byName)] : cluster.nodes) {
      const docker = await pool.get(n).docker().catch(() => undefined);
      const name = docker ? ((await docker.info().catch(() => undefined)) as { Name?: string } | undefined)?.Name : undefined;
      if (name) found.set(name, docker!);
      if (name === hostname) return docker!;
    }
    throw new UcpError(`No configured manager of ${cluster.name} is ${hostname}, or it is unreachable.`, `Add ${hostname} to the cluster's nodes, or retry when it is up.`, 1);
  };
}
