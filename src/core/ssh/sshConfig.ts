/**
 * Resolves a node's SSH endpoint the way `ssh <host>` would: explicit settings in the cluster
 * configuration win (like ssh's command-line options), then the first match in ~/.ssh/config
 * (HostName, User, Port, IdentityFile, IdentitiesOnly, ProxyJump, UserKnownHostsFile), then
 * OpenSSH's defaults. Parsing is done by the `ssh-config` package.
 */
import { readFileSync } from 'node:fs';
import { homedir, userInfo } from 'node:os';
import { join } from 'node:path';
import SSHConfig from 'ssh-config';
import { ConfigError } from '../errors';
import { DEFAULT_DOCKER_SOCKET, type NodeConfig } from '../config';

export interface ResolvedEndpoint {
  /** What the admin wrote (alias or host). */
  alias: string;
  /** Where TCP connects (after HostName). */
  host: string;
  port: number;
  username: string;
  /** Candidate private keys, in order. Default ones are only used when present. */
  identityFiles: string[];
  /** IdentityFile(s) named explicitly (config or ssh config), as opposed to ~/.ssh/id_* defaults. */
  explicitIdentity: boolean;
  /** ssh-agent socket to try first, if any. */
  agentSocket?: string;
  knownHostsFile: string;
  /** Hops to go through first, outermost first (ProxyJump a,b → [a, b]). */
  jumps: ResolvedEndpoint[];
}

export interface ResolvedNode extends ResolvedEndpoint {
  dockerSocket: string;
}

const DEFAULT_IDENTITIES = ['id_ed25519', 'id_ecdsa', 'id_rsa'];

export function expandHome(p: string): string {
  if (p === '~') return homedir();
  if (p.startsWith('~/')) return join(homedir(), p.slice(2));
  return p;
}

/** ssh_config(5) TOKENS that make sense for IdentityFile / UserKnownHostsFile. */
function expandTokens(p: string, host: string, user: string): string {
  return expandHome(
    p.replace(/%([%dhru])/g, (_, t: string) =>
      t === '%' ? '%' : t === 'd' ? homedir() : t === 'h' ? host : t === 'r' ? user : userInfo().username,
    ),
  );
}

function loadSshConfig(file: string, explicit: boolean): SSHConfig | undefined {
  try {
    return SSHConfig.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT' && !explicit) return undefined;
    throw new ConfigError(`Cannot read SSH config ${file}: ${(err as Error).message}`, 'Fix "sshConfigFile" in the cluster configuration.');
  }
}

function first(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

function list(v: string | string[] | undefined): string[] {
  return v === undefined ? [] : Array.isArray(v) ? v : [v];
}

/** `[user@]host[:port]` (also `[v6addr]:port`). */
export function parseJumpSpec(spec: string): { user?: string; host: string; port?: number } {
  const at = spec.lastIndexOf('@');
  const user = at >= 0 ? spec.slice(0, at) : undefined;
  let rest = at >= 0 ? spec.slice(at + 1) : spec;
  let port: number | undefined;
  const bracket = /^\[(.+)\]:(\d+)$/.exec(rest);
  if (bracket) {
    rest = bracket[1];
    port = Number(bracket[2]);
  } else {
    const m = /^([^:]+):(\d+)$/.exec(rest);
    if (m) {
      rest = m[1];
      port = Number(m[2]);
    }
  }
  if (!rest) throw new ConfigError(`Bad ProxyJump "${spec}".`, 'Use [user@]host[:port], comma-separated for several hops.');
  return { user, host: rest, port };
}

/** What a node's config says itself, which wins over ~/.ssh/config. */
type Explicit = Pick<NodeConfig, 'port' | 'username' | 'identityFile' | 'useAgent' | 'knownHostsFile' | 'proxyJump'>;

function resolveEndpoint(alias: string, explicit: Explicit, cfg: SSHConfig | undefined, inherited: Partial<ResolvedEndpoint>, depth: number): ResolvedEndpoint {
  if (depth > 8) throw new ConfigError(`ProxyJump chain for ${alias} is too long or loops.`);
  const computed = cfg ? cfg.compute(alias, { ignoreCase: true, matchExec: false }) : {};
  const host = first(computed.hostname) ?? alias;
  const port = explicit.port ?? (first(computed.port) ? Number(first(computed.port)) : 22);
  const username = explicit.username ?? first(computed.user) ?? inherited.username ?? userInfo().username;
  const configured = list(computed.identityfile).map((p) => expandTokens(p, host, username));
  let identityFiles: string[];
  let explicitIdentity = true;
  if (explicit.identityFile) identityFiles = [expandHome(explicit.identityFile)];
  else if (configured.length) identityFiles = configured;
  else if (inherited.explicitIdentity && inherited.identityFiles?.length) identityFiles = inherited.identityFiles;
  else {
    identityFiles = DEFAULT_IDENTITIES.map((n) => join(homedir(), '.ssh', n));
    explicitIdentity = false;
  }
  const identitiesOnly = (first(computed.identitiesonly) ?? '').toLowerCase() === 'yes';
  // Like ssh: the agent is offered unless IdentitiesOnly; the cluster config can switch it off.
  const wantAgent = explicit.useAgent ?? (!explicit.identityFile && !identitiesOnly);
  const agentSocket = wantAgent ? process.env.SSH_AUTH_SOCK || undefined : undefined;
  const knownHostsFile = explicit.knownHostsFile
    ? expandHome(explicit.knownHostsFile)
    : first(computed.userknownhostsfile)
      ? expandTokens(first(computed.userknownhostsfile)!.split(/\s+/)[0], host, username)
      : inherited.knownHostsFile ?? join(homedir(), '.ssh', 'known_hosts');
  const jumpSpec = explicit.proxyJump ?? first(computed.proxyjump);
  const self: ResolvedEndpoint = { alias, host, port, username, identityFiles, explicitIdentity, agentSocket, knownHostsFile, jumps: [] };
  if (jumpSpec && jumpSpec.toLowerCase() !== 'none') {
    for (const hop of jumpSpec.split(',')) {
      const j = parseJumpSpec(hop.trim());
      // A hop is resolved through ssh config too; it inherits keys and known_hosts of the node.
      const resolved = resolveEndpoint(j.host, { port: j.port, username: j.user }, cfg, self, depth + 1);
      self.jumps.push(...resolved.jumps, { ...resolved, jumps: [] });
    }
  }
  return self;
}

export function resolveNode(node: NodeConfig): ResolvedNode {
  const file = node.sshConfigFile ? expandHome(node.sshConfigFile) : join(homedir(), '.ssh', 'config');
  const cfg = loadSshConfig(file, !!node.sshConfigFile);
  const ep = resolveEndpoint(node.host, node, cfg, {}, 0);
  return { ...ep, dockerSocket: node.dockerSocket || DEFAULT_DOCKER_SOCKET };
}
