/** History and lock live in the swarm: any reachable manager will do. */
import type Dockerode from 'dockerode';
import type { ClusterConfig } from '../config';
import { describeError } from '../errors';
import type { SessionPool } from '../ssh/sessionPool';

export async function connectAny(cluster: ClusterConfig, pool: SessionPool): Promise<{ docker?: Dockerode; warning?: string }> {
  const errors: string[] = [];
  for (const node of cluster.nodes) {
    try {
      const docker = await pool.get(node).docker();
      await docker.ping();
      return { docker };
    } catch (err) {
      errors.push(`${node.name}: ${describeError(err)}`);
    }
  }
  return { warning: `no manager reachable, showing local records only (${errors.join('; ')})` };
}
