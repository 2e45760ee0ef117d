/**
 * What the tree shows for a cluster: each swarm manager with its reachability, engine,
 * SELinux flag and UCP install, read through the managers' Docker sockets over SSH.
 * A configured cluster may list one node; the other managers come from the swarm and are
 * matched to configured SSH endpoints by swarm node ID, name, hostname or address. A manager
 * with no configured endpoint is reached at its swarm address with the SSH settings of the
 * configured node that listed it (siblingNodeConfig), host-key checks included.
 * Nothing here throws for a node's trouble: it becomes that node's `state` and `error`.
 */
import type Dockerode from 'dockerode';
import type { ClusterConfig, NodeConfig } from '../config';
import { describeError } from '../errors';
import type { SessionPool } from '../ssh/sessionPool';
import type { ResolvedNode } from '../ssh/sshConfig';
import { ConnectError, DockerSocketNotFoundError } from '../ssh/errors';
import { siblingNodeConfig } from '../ssh/siblingNode';

export type Reachability = 'leader' | 'reachable' | 'unreachable';

/**
 * ok: UCP manager ready to back up. not-manager / no-swarm / no-ucp: reached, but nothing to
 * back up there. unreachable: SSH/Docker can't reach it (or the swarm says so). error: reached
 * nothing for another reason (auth, host key…; see `error`). unconfigured: a swarm manager
 * with no SSH endpoint in the cluster configuration and no swarm address to reach it at.
 */
export type NodeState = 'ok' | 'not-manager' | 'no-swarm' | 'no-ucp' | 'unreachable' | 'error' | 'unconfigured';

export interface UcpInstall {
  installed: boolean;
  /** From the `com.docker.ucp.version` label, else the ucp-proxy image tag. */
  version?: string;
  /** Image namespace: docker/ucp-* (Docker Enterprise) or mirantis/ucp-* (MKE). */
  namespace?: 'docker' | 'mirantis';
  /** ucp-* container names, sorted. */
  containers: string[];
  /** ucp-* volume names, sorted. */
  volumes: string[];
  /** `docker/ucp:<version>` or `mirantis/ucp:<version>` when that image is on the node (the official engine). */
  officialImage?: string;
}

export interface SwarmInfo {
  /** Docker's LocalNodeState: inactive, pending, active, error, locked. */
  localState: string;
  nodeId?: string;
  clusterId?: string;
  /** Docker's ControlAvailable: this node is a swarm manager. */
  isManager: boolean;
}

/** One node as its own Docker Engine describes it. */
export interface NodeInspection {
  hostname: string;
  engineVersion: string;
  /** `name=selinux` in SecurityOptions: backups need `--security-opt label=disable` (spec). */
  selinux: boolean;
  swarm: SwarmInfo;
  ucp: UcpInstall;
}

export interface ManagerStatus {
  /** Configured node name, else the swarm hostname. */
  name: string;
  hostname?: string;
  address?: string;
  nodeId?: string;
  role?: 'manager' | 'worker';
  leader: boolean;
  reachability?: Reachability;
  /** Swarm availability: active, pause, drain. */
  availability?: string;
  engineVersion?: string;
  selinux?: boolean;
  ucp: UcpInstall;
  state: NodeState;
  /** Why the state is not ok, with what to do. */
  error?: string;
  /** Class name of the error (HostKeyChangedError, AuthFailedError, …) for icons and tests. */
  errorName?: string;
  /** The SSH endpoint used for this manager: configured, or derived for a discovered one. */
  nodeConfig?: NodeConfig;
  /** Not in the configuration: found in the swarm, reached with this configured node's SSH settings. */
  discoveredVia?: string;
}

export interface ClusterStatus {
  cluster: string;
  swarmId?: string;
  /** The UCP version most managers run. */
  ucpVersion?: string;
  managers: ManagerStatus[];
  /** ISO time of the check. */
  checkedAt: string;
}

const NO_UCP: UcpInstall = { installed: false, containers: [], volumes: [] };

function imageTag(image: string): string | undefined {
  const at = image.indexOf('@');
  const ref = at >= 0 ? image.slice(0, at) : image;
  const colon = ref.lastIndexOf(':');
  return colon > ref.lastIndexOf('/') ? ref.slice(colon + 1) : undefined;
}

function imageNamespace(image: string): UcpInstall['namespace'] {
  // docker.io/docker/ucp-proxy:3.2.4, mirantis/ucp-proxy:3.3.0, registry/mirantis/ucp-…
  const m = /(?:^|\/)(docker|mirantis)\/ucp[-:/]/.exec(image);
  return m ? (m[1] as 'docker' | 'mirantis') : undefined;
}

/** The official image of `version` on the node, the cluster's own namespace first (as the engine picks it). */
async function findOfficialImageRef(docker: Dockerode, version: string, namespace: UcpInstall['namespace']): Promise<string | undefined> {
  const wanted = [namespace ?? 'docker', namespace === 'mirantis' ? 'docker' : 'mirantis'].map((ns) => `${ns}/ucp:${version}`);
  const images = await docker.listImages({ filters: { reference: wanted } }).catch(() => []);
  const tags = new Set(images.flatMap((i) => i.RepoTags ?? []));
  return wanted.find((w) => tags.has(w));
}

export async function inspectUcp(docker: Dockerode): Promise<UcpInstall> {
  // Docker's name filter is a substring match: keep only names that start with ucp-.
  const [containers, volumes] = await Promise.all([
    docker.listContainers({ all: true, filters: { name: ['ucp-'] } }),
    docker.listVolumes({ filters: { name: ['ucp-'] } }),
  ]);
  const ucpContainers = containers.filter((c) => c.Names.some((n) => n.replace(/^\//, '').startsWith('ucp-')));
  const names = ucpContainers.map((c) => c.Names.map((n) => n.replace(/^\//, '')).find((n) => n.startsWith('ucp-'))!).sort();
  const volumeNames = (volumes.Volumes ?? []).map((v) => v.Name).filter((n) => n.startsWith('ucp-')).sort();
  if (ucpContainers.length === 0) return { installed: false, containers: [], volumes: volumeNames };
  const labelled = ucpContainers.find((c) => c.Labels?.['com.docker.ucp.version']);
  const proxy = ucpContainers.find((c) => c.Names.includes('/ucp-proxy'));
  const version = labelled?.Labels['com.docker.ucp.version'] ?? (proxy ? imageTag(proxy.Image) : undefined);
  const namespace = imageNamespace(proxy?.Image ?? '') ?? ucpContainers.map((c) => imageNamespace(c.Image)).find(Boolean);
  const officialImage = version ? await findOfficialImageRef(docker, version, namespace) : undefined;
  return { installed: true, version, namespace, containers: names, volumes: volumeNames, officialImage };
}

/** One node's engine, swarm role and UCP install. */
export async function inspectNode(docker: Dockerode): Promise<NodeInspection> {
  const [info, ucp] = await Promise.all([docker.info(), inspectUcp(docker)]);
  const swarm = info.Swarm ?? {};
  const securityOptions: string[] = info.SecurityOptions ?? [];
  return {
    hostname: info.Name,
    engineVersion: info.ServerVersion,
    selinux: securityOptions.some((o) => o === 'selinux' || o.split(',').includes('name=selinux')),
    swarm: {
      localState: swarm.LocalNodeState || 'inactive',
      nodeId: swarm.NodeID || undefined,
      clusterId: swarm.Cluster?.ID || undefined,
      isManager: swarm.ControlAvailable === true,
    },
    ucp,
  };
}

function stateOf(i: NodeInspection): { state: NodeState; error?: string } {
  if (i.swarm.localState !== 'active') {
    return { state: 'no-swarm', error: `Swarm mode is ${i.swarm.localState} on this node: UCP runs only on a swarm manager.` };
  }
  if (!i.swarm.isManager) return { state: 'not-manager', error: 'This node is a swarm worker: UCP backups run on a manager node.' };
  if (!i.ucp.installed) return { state: 'no-ucp', error: 'No ucp-* containers on this node: UCP is not installed here.' };
  return { state: 'ok' };
}

function stateOfFailure(err: unknown): NodeState {
  return err instanceof ConnectError || err instanceof DockerSocketNotFoundError ? 'unreachable' : 'error';
}

interface Probe {
  node: NodeConfig;
  /** Resolved SSH endpoint: its host is matched against swarm addresses. */
  resolved?: ResolvedNode;
  /** Set for a manager found in the swarm: the configured node whose settings reached it. */
  discoveredVia?: string;
  inspection?: NodeInspection;
  docker?: Dockerode;
  error?: unknown;
}

async function probe(node: NodeConfig, pool: SessionPool, options: DiscoverOptions): Promise<Probe> {
  const session = pool.get(node);
  const p: Probe = { node };
  try {
    p.resolved = session.endpoint;
    // A node that just failed to connect is reported from memory (pool.docker): no stall per refresh.
    p.docker = await pool.docker(node, { force: options.force });
    p.inspection = await inspectNode(p.docker);
  } catch (err) {
    p.error = err;
  }
  return p;
}

/* eslint-disable @typescript-eslint/no-explicit-any -- swarm node objects are untyped in @types/dockerode */
function addressOf(n: any): string | undefined {
  const mgr: string | undefined = n.ManagerStatus?.Addr;
  const host = mgr ? mgr.replace(/:\d+$/, '').replace(/^\[(.*)\]$/, '$1') : undefined;
  return host || (n.Status?.Addr && n.Status.Addr !== '0.0.0.0' ? n.Status.Addr : undefined);
}

function fromSwarm(n: any): Omit<ManagerStatus, 'name' | 'state' | 'ucp'> {
  const leader = n.ManagerStatus?.Leader === true;
  const r: string | undefined = n.ManagerStatus?.Reachability;
  return {
    hostname: n.Description?.Hostname,
    address: addressOf(n),
    nodeId: n.ID,
    role: n.Spec?.Role,
    leader,
    reachability: leader ? 'leader' : r === 'reachable' ? 'reachable' : 'unreachable',
    availability: n.Spec?.Availability,
    engineVersion: n.Description?.Engine?.EngineVersion,
  };
}

function matches(p: Probe, n: any): boolean {
  if (p.inspection?.swarm.nodeId) return p.inspection.swarm.nodeId === n.ID;
  const hostname: string | undefined = n.Description?.Hostname;
  const address = addressOf(n);
  return [p.node.name, p.node.host, p.resolved?.host].some((x) => x && (x === hostname || x === address));
}
/* eslint-enable @typescript-eslint/no-explicit-any */

function fromProbe(p: Probe): ManagerStatus {
  if (p.inspection) {
    const i = p.inspection;
    return {
      name: p.node.name || i.hostname,
      hostname: i.hostname,
      nodeId: i.swarm.nodeId,
      role: i.swarm.localState === 'active' ? (i.swarm.isManager ? 'manager' : 'worker') : undefined,
      leader: false,
      engineVersion: i.engineVersion,
      selinux: i.selinux,
      ucp: i.ucp,
      nodeConfig: p.node,
      ...stateOf(i),
    };
  }
  return {
    name: p.node.name || p.node.host,
    leader: false,
    ucp: NO_UCP,
    state: stateOfFailure(p.error),
    error: describeError(p.error),
    errorName: p.error instanceof Error ? p.error.name : undefined,
    nodeConfig: p.node,
  };
}

/** A discovered manager's failure says which settings were tried, and how to override them. */
function explainDiscovered(m: ManagerStatus, p: Probe, swarmNodeId: string, clusterName: string): void {
  const at = `${p.node.username ? p.node.username + '@' : ''}${p.node.host}:${p.node.port}`;
  const override = `add it to the nodes of cluster "${clusterName}" with its own SSH settings`;
  if (p.inspection && p.inspection.swarm.nodeId !== swarmNodeId) {
    // The swarm address leads elsewhere (NAT, reused address): never back up the wrong node.
    m.state = 'error';
    m.error = `${at} is ${p.inspection.hostname} (swarm node ${p.inspection.swarm.nodeId ?? 'none'}), not this manager: ${override}.`;
  } else if (!p.inspection) {
    m.error = `${m.error} This manager is not in the configuration: it was tried at ${at} with the SSH settings of ${p.discoveredVia}; if it is reached differently, ${override}.`;
  }
}

function mostCommon(values: (string | undefined)[]): string | undefined {
  const counts = new Map<string, number>();
  for (const v of values) if (v) counts.set(v, (counts.get(v) ?? 0) + 1);
  return [...counts.entries()].sort((a, b) => b[1] - a[1])[0]?.[0];
}

export interface DiscoverOptions {
  /**
   * An explicit refresh: try again nodes that failed to connect moments ago, instead of
   * repeating their last failure (see the pool's retryUnreachableAfterMs).
   */
  force?: boolean;
}

export async function discoverCluster(cluster: ClusterConfig, pool: SessionPool, options: DiscoverOptions = {}): Promise<ClusterStatus> {
  const probes = await Promise.all(cluster.nodes.map((n) => probe(n, pool, options)));
  // The swarm's own view comes from the first configured node that is a manager.
  const viewer = probes.find((p) => p.inspection?.swarm.isManager && p.docker);
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  let swarmNodes: any[] = [];
  let viewError: unknown;
  if (viewer) {
    try {
      swarmNodes = await viewer.docker!.listNodes({ filters: JSON.stringify({ role: ['manager'] }) });
    } catch (err) {
      viewError = err;
    }
  }
  // Per-node configuration wins; the swarm's other managers get the viewer's SSH settings.
  const used = new Set<Probe>();
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const pairs: { n: any; p?: Probe }[] = [];
  for (const n of swarmNodes) {
    const p = probes.find((x) => !used.has(x) && matches(x, n));
    if (p) used.add(p);
    pairs.push({ n, p });
  }
  await Promise.all(
    pairs.map(async (pair) => {
      const address = addressOf(pair.n);
      if (pair.p || !address) return;
      const name: string = pair.n.Description?.Hostname || address;
      pair.p = await probe(siblingNodeConfig(viewer!.node, viewer!.resolved!, name, address), pool, options);
      pair.p.discoveredVia = viewer!.node.name;
    }),
  );
  const managers: ManagerStatus[] = [];
  for (const { n, p } of pairs) {
    const swarm = fromSwarm(n);
    if (!p) {
      managers.push({
        ...swarm,
        name: swarm.hostname ?? n.ID,
        ucp: NO_UCP,
        state: swarm.reachability === 'unreachable' ? 'unreachable' : 'unconfigured',
        error: `The swarm gives no address for this manager: add it to the nodes of cluster "${cluster.name}".`,
      });
      continue;
    }
    const own = fromProbe(p);
    const m: ManagerStatus = { ...own, ...swarm, engineVersion: own.engineVersion ?? swarm.engineVersion, name: own.name, discoveredVia: p.discoveredVia };
    if (!p.inspection && swarm.reachability === 'unreachable') m.state = 'unreachable';
    if (p.discoveredVia) explainDiscovered(m, p, n.ID, cluster.name);
    if (p.inspection && swarm.reachability === 'unreachable') {
      // Reached over SSH, yet the swarm lost it (e.g. dockerd restarting): not safe to back up.
      m.state = 'unreachable';
      m.error = 'The swarm reports this manager as unreachable.';
    }
    managers.push(m);
  }
  // Configured nodes the swarm view did not list: their own view (no swarm, worker, other swarm, down).
  for (const p of probes) {
    if (used.has(p)) continue;
    const m = fromProbe(p);
    if (viewer && p.inspection?.swarm.isManager && p.inspection.swarm.clusterId !== viewer.inspection!.swarm.clusterId) {
      m.state = 'error';
      m.error = `This manager belongs to another swarm than ${viewer.node.name}; check the cluster configuration.`;
    }
    if (viewError && p === viewer) m.error = `Cannot list the swarm's nodes: ${describeError(viewError)}`;
    managers.push(m);
  }
  // Configured nodes in configuration order, then the swarm's other managers by hostname.
  const order = (m: ManagerStatus) => (m.nodeConfig && !m.discoveredVia ? cluster.nodes.indexOf(m.nodeConfig) : cluster.nodes.length);
  managers.sort((a, b) => order(a) - order(b) || (a.hostname ?? a.name).localeCompare(b.hostname ?? b.name));
  return {
    cluster: cluster.name,
    swarmId: viewer?.inspection?.swarm.clusterId,
    ucpVersion: mostCommon(managers.map((m) => m.ucp.version)),
    managers,
    checkedAt: new Date().toISOString(),
  };
}
