/**
 * What the validation step learns about the manager: is it a swarm manager, which UCP
 * version and image namespace runs there, which containers are UCP's, is SELinux on.
 */
import type Docker from 'dockerode';
import { NotAManagerError, UcpNotFoundError, swarmQuorumError } from './errors';

export interface UcpContainer {
  id: string;
  /** Name without the leading slash, e.g. "ucp-kv". */
  name: string;
  image: string;
  state: string;
  labels: Record<string, string>;
}

export interface UcpNodeInfo {
  /** Swarm/engine hostname of the node (the spec's nodeLocation). */
  hostname: string;
  nodeId: string;
  engineVersion: string;
  ucpVersion: string;
  /** "docker" (Docker Enterprise era) or "mirantis" (MKE 3.4+). */
  namespace: string;
  /** The spec: SELinux hosts need `--security-opt label=disable`. */
  selinux: boolean;
  containers: UcpContainer[];
}

/** Containers that are UCP's own: `ucp-*` names, or the UCP version label. */
function isUcp(c: Docker.ContainerInfo): boolean {
  const name = (c.Names?.[0] ?? '').replace(/^\//, '');
  return /^ucp-/.test(name) && !name.startsWith('ucp-backup-helper-') && name !== 'ucp';
}

export function versionFrom(containers: UcpContainer[]): { version: string; namespace: string } | undefined {
  const preferred = ['ucp-proxy', 'ucp-controller', 'ucp-kv'];
  const ordered = [...containers].sort((a, b) => rankOf(a) - rankOf(b));
  function rankOf(c: UcpContainer): number {
    const i = preferred.indexOf(c.name);
    return i < 0 ? preferred.length : i;
  }
  for (const c of ordered) {
    const m = /^(?:[^/]+\/)?(docker|mirantis)\/ucp-[a-z0-9-]+:([0-9][^@\s]*)/.exec(c.image);
    const label = c.labels['com.docker.ucp.version'];
    if (label) return { version: label, namespace: m?.[1] ?? 'docker' };
    if (m) return { version: m[2], namespace: m[1] };
  }
  return undefined;
}

export async function inspectUcpNode(docker: Docker, nodeName: string): Promise<UcpNodeInfo> {
  const info = (await docker.info()) as {
    Name: string;
    ServerVersion: string;
    SecurityOptions?: string[];
    Swarm?: { LocalNodeState?: string; ControlAvailable?: boolean; NodeID?: string; Error?: string };
  };
  if (info.Swarm?.LocalNodeState !== 'active') throw new NotAManagerError(nodeName, `its engine is not in a swarm (state ${info.Swarm?.LocalNodeState ?? 'unknown'})`);
  if (!info.Swarm.ControlAvailable) throw new NotAManagerError(nodeName, 'it is a worker');
  // Refused at once: every swarm write (the lock first) would otherwise wait for raft's timeout.
  const leaderless = swarmQuorumError(info.Swarm.Error);
  if (leaderless) throw leaderless;
  const list = await docker.listContainers({ all: true });
  const containers: UcpContainer[] = list.filter(isUcp).map((c) => ({
    id: c.Id,
    name: (c.Names?.[0] ?? '').replace(/^\//, ''),
    image: c.Image,
    state: c.State,
    labels: c.Labels ?? {},
  }));
  if (!containers.length) throw new UcpNotFoundError(nodeName, 'no ucp-* containers on this node');
  const v = versionFrom(containers);
  if (!v) throw new UcpNotFoundError(nodeName, 'the UCP version is unknown (no com.docker.ucp.version label, no docker/ucp-* or mirantis/ucp-* image tag)');
  return {
    hostname: info.Name,
    nodeId: info.Swarm.NodeID ?? '',
    engineVersion: info.ServerVersion,
    ucpVersion: v.version,
    namespace: v.namespace,
    selinux: (info.SecurityOptions ?? []).some((o) => /name=selinux/.test(o)),
    containers,
  };
}

export function findContainer(node: UcpNodeInfo, name: string): UcpContainer {
  const c = node.containers.find((x) => x.name === name);
  if (!c) throw new UcpNotFoundError(node.hostname, `container ${name} is missing`);
  return c;
}
