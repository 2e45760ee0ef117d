/**
 * The SSH endpoint of a manager that is not in the cluster configuration but was listed by the
 * swarm: its swarm address, reached the way the configured node that listed it is reached —
 * same port, user, keys/agent, jump hosts, known_hosts and Docker socket. Real managers
 * usually share all of these (port 22, one admin account), so one configured node is enough.
 */
import type { NodeConfig } from '../config';
import type { ResolvedEndpoint, ResolvedNode } from './sshConfig';

function hostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

function jumpSpec(jumps: ResolvedEndpoint[]): string | undefined {
  // The alias, not the HostName: resolving it again through ~/.ssh/config gives the same hop.
  return jumps.length ? jumps.map((j) => `${j.username}@${hostPort(j.alias, j.port)}`).join(',') : undefined;
}

/**
 * `seed` is the configured node, `resolved` what its settings (and ~/.ssh/config) resolved to.
 * Settings that came from a Host alias are made explicit: the swarm address matches no alias.
 */
export function siblingNodeConfig(seed: NodeConfig, resolved: ResolvedNode, name: string, address: string): NodeConfig {
  return {
    name,
    host: address,
    port: resolved.port,
    username: resolved.username,
    // NodeConfig holds one key; an alias with several IdentityFile lines passes on its first.
    identityFile: seed.identityFile ?? (resolved.explicitIdentity ? resolved.identityFiles[0] : undefined),
    useAgent: seed.useAgent ?? resolved.agentSocket !== undefined,
    knownHostsFile: resolved.knownHostsFile,
    proxyJump: seed.proxyJump ?? jumpSpec(resolved.jumps),
    dockerSocket: resolved.dockerSocket,
    sshConfigFile: seed.sshConfigFile,
  };
}
