/**
 * The cluster configuration: the VS Code setting `ucpBackup.clusters` and the CLI's
 * `--config` file (`{"clusters": [...]}`) share this schema. Documented in the README.
 */
import { readFile } from 'node:fs/promises';
import type { RetentionPolicy } from './retention/policy';
import { ConfigError } from './errors';

export interface NodeConfig {
  /** Display name; matched to the swarm node's hostname when possible. */
  name: string;
  /** Host name, address, or a Host alias from ~/.ssh/config. */
  host: string;
  port?: number;
  username?: string;
  /** Private key file; `~` is expanded. */
  identityFile?: string;
  /** Use ssh-agent ($SSH_AUTH_SOCK). Default: true when no identityFile is given. */
  useAgent?: boolean;
  /** known_hosts file to check and append to; default ~/.ssh/known_hosts. */
  knownHostsFile?: string;
  /** Jump host, OpenSSH syntax: [user@]host[:port]. */
  proxyJump?: string;
  /** Docker socket on the node; default /var/run/docker.sock. */
  dockerSocket?: string;
  /** ~/.ssh/config to read aliases from; default ~/.ssh/config. */
  sshConfigFile?: string;
}

export interface ClusterConfig {
  name: string;
  nodes: NodeConfig[];
  /** UCP API base URL (https://ucp.example.com), or null when not used. */
  ucpUrl?: string | null;
  /** Skip TLS verification of the UCP API: an explicit, warned choice (VS Code pins UCP's CA otherwise). */
  ucpInsecure?: boolean;
  /**
   * How VS Code reaches the UCP API at ucpUrl: 'login' (ucpUsername; the password in
   * SecretStorage) or 'bundle' (a client bundle; its key in SecretStorage). A cluster with
   * ucpAuth needs no SSH nodes.
   */
  ucpAuth?: 'login' | 'bundle';
  ucpUsername?: string;
  /**
   * The cluster's retention policy (restic's semantics, src/core/retention): what
   * `ucp-backup prune` without --keep-* and VS Code's "Apply Retention…" keep.
   */
  retention?: RetentionPolicy;
}

/** A cluster VS Code reaches through the UCP API (with or without SSH nodes). */
export function isApiCluster(c: ClusterConfig): boolean {
  return !!c.ucpUrl && (c.ucpAuth === 'login' || c.ucpAuth === 'bundle');
}

export interface ConfigFile {
  clusters: ClusterConfig[];
}

export const DEFAULT_DOCKER_SOCKET = '/var/run/docker.sock';

export function parseConfig(value: unknown, source = 'configuration'): ConfigFile {
  const obj = value as Partial<ConfigFile> | null;
  if (!obj || !Array.isArray(obj.clusters)) {
    throw new ConfigError(`${source}: expected {"clusters": [...]}.`, 'See the README for the schema.');
  }
  for (const c of obj.clusters) validateCluster(c, source);
  return obj as ConfigFile;
}

export function validateCluster(c: ClusterConfig, source = 'configuration'): void {
  if (!c || typeof c.name !== 'string' || !c.name) throw new ConfigError(`${source}: a cluster has no "name".`);
  if (c.ucpAuth !== undefined && c.ucpAuth !== 'login' && c.ucpAuth !== 'bundle') {
    throw new ConfigError(`${source}: cluster "${c.name}" has ucpAuth ${JSON.stringify(c.ucpAuth)}.`, 'Use "login" (with ucpUsername) or "bundle".');
  }
  if (c.nodes === undefined && isApiCluster(c)) c.nodes = [];
  if (!Array.isArray(c.nodes) || (c.nodes.length === 0 && !isApiCluster(c))) {
    throw new ConfigError(`${source}: cluster "${c.name}" lists no nodes.`, 'Add at least one manager node (or give ucpUrl with ucpAuth to use the UCP API only).');
  }
  if (c.ucpAuth === 'login' && !c.ucpUsername) throw new ConfigError(`${source}: cluster "${c.name}" has ucpAuth "login" but no ucpUsername.`);
  if (c.retention !== undefined && (!c.retention || typeof c.retention !== 'object' || Array.isArray(c.retention))) {
    throw new ConfigError(`${source}: cluster "${c.name}" has retention ${JSON.stringify(c.retention)}.`, 'Give an object such as {"daily": 7, "weekly": 4} (keys last, daily, weekly, monthly).');
  }
  for (const n of c.nodes) {
    if (!n || typeof n.host !== 'string' || !n.host) {
      throw new ConfigError(`${source}: a node of cluster "${c.name}" has no "host".`);
    }
    if (!n.name) n.name = n.host;
  }
}

export async function loadConfigFile(path: string): Promise<ConfigFile> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new ConfigError(`Cannot read config file ${path}: ${(err as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new ConfigError(`Config file ${path} is not valid JSON: ${(err as Error).message}`);
  }
  return parseConfig(json, path);
}

export function findCluster(config: ConfigFile, name: string | undefined): ClusterConfig {
  if (!name) {
    if (config.clusters.length === 1) return config.clusters[0];
    throw new ConfigError('Several clusters are configured.', `Pass --cluster with one of: ${config.clusters.map((c) => c.name).join(', ')}.`);
  }
  const c = config.clusters.find((x) => x.name === name);
  if (!c) throw new ConfigError(`No cluster named "${name}".`, `Configured: ${config.clusters.map((x) => x.name).join(', ') || 'none'}.`);
  return c;
}

export function findNode(cluster: ClusterConfig, name: string | undefined): NodeConfig {
  if (cluster.nodes.length === 0) {
    throw new ConfigError(`Cluster "${cluster.name}" has no SSH nodes: it is reached through the UCP API only.`, 'Use the UCP API (`ucp-backup api …`), or add a manager node to the cluster.');
  }
  if (!name) return cluster.nodes[0];
  const n = cluster.nodes.find((x) => x.name === name || x.host === name);
  if (!n) throw new ConfigError(`Cluster "${cluster.name}" has no node "${name}".`, `Nodes: ${cluster.nodes.map((x) => x.name).join(', ')}.`);
  return n;
}
