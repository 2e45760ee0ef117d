/**
 * The edits behind "Add Cluster" and "Remove Cluster", without `vscode` so they are
 * unit-tested: the node entry built from the admin's answers (known_hosts included), and
 * which configuration source a removal edits — the settings scope that lists the cluster, or
 * the clusters file it came from.
 */
import { readFile, rename, stat, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_DOCKER_SOCKET, type NodeConfig } from '../core/config';
import { ConfigError } from '../core/errors';
import { expandHome, resolveNode } from '../core/ssh/sshConfig';
import type { ClusterEntry } from './clusterSource';

/** `[user@]host[:port]`, IPv6 in brackets; undefined when it is not one. */
export function parseSshTarget(target: string): { username?: string; host: string; port?: number } | undefined {
  const m = /^(?:([^@\s]+)@)?(\[[^\]]+\]|[^:@\s]+)(?::(\d+))?$/.exec(target.trim());
  if (!m) return undefined;
  return { username: m[1], host: m[2].replace(/^\[|\]$/g, ''), port: m[3] ? Number(m[3]) : undefined };
}

/**
 * The known_hosts file ssh would use for this node when none is configured: UserKnownHostsFile
 * of ~/.ssh/config, else ~/.ssh/known_hosts. Trusting a new host key appends to it.
 */
export function defaultKnownHostsFile(target: { host: string; port?: number; username?: string }): string {
  try {
    return resolveNode({ name: target.host, host: target.host, port: target.port, username: target.username || undefined }).knownHostsFile;
  } catch {
    // An unreadable ~/.ssh/config fails the connection test with its own message; offer ssh's default here.
    return join(homedir(), '.ssh', 'known_hosts');
  }
}

export interface NodeAnswers {
  host: string;
  port?: number;
  username?: string;
  identityFile?: string;
  dockerSocket: string;
  /** The file the admin chose; stored only when it differs from the default. */
  knownHostsFile?: string;
}

export function buildNode(a: NodeAnswers): NodeConfig {
  const node: NodeConfig = { name: a.host, host: a.host };
  if (a.port) node.port = a.port;
  if (a.username) node.username = a.username;
  if (a.identityFile) node.identityFile = a.identityFile;
  else node.useAgent = true;
  if (a.dockerSocket !== DEFAULT_DOCKER_SOCKET) node.dockerSocket = a.dockerSocket;
  if (a.knownHostsFile && expandHome(a.knownHostsFile) !== defaultKnownHostsFile(a)) node.knownHostsFile = a.knownHostsFile;
  return node;
}

/** The setting's values per scope, as `WorkspaceConfiguration.inspect('clusters')` gives them. */
export interface SettingScopes {
  globalValue?: unknown;
  workspaceValue?: unknown;
  workspaceFolderValue?: unknown;
}
export type SettingScope = 'globalValue' | 'workspaceValue' | 'workspaceFolderValue';

export type RemovalPlan =
  | { source: 'setting'; edits: { scope: SettingScope; value: unknown[] }[] }
  | { source: 'file'; path: string };

const nameOf = (c: unknown) => (c && typeof c === 'object' ? (c as { name?: unknown }).name : undefined);

/**
 * Where "Remove Cluster" must edit: every settings scope whose list names the cluster (a
 * cluster left in a workspace setting would come back), or its clusters file.
 */
export function planClusterRemoval(entry: ClusterEntry, scopes: SettingScopes): RemovalPlan {
  if (entry.origin !== 'setting') return { source: 'file', path: entry.origin };
  const edits: { scope: SettingScope; value: unknown[] }[] = [];
  for (const scope of ['globalValue', 'workspaceValue', 'workspaceFolderValue'] as const) {
    const list = scopes[scope];
    if (Array.isArray(list) && list.some((c) => nameOf(c) === entry.cluster.name)) edits.push({ scope, value: list.filter((c) => nameOf(c) !== entry.cluster.name) });
  }
  return { source: 'setting', edits };
}

/** Removes the cluster from a clusters file, keeping everything else in it; atomic rename. */
export async function removeClusterFromFile(path: string, name: string): Promise<void> {
  const json = JSON.parse(await readFile(path, 'utf8')) as { clusters?: unknown[] };
  const before = Array.isArray(json.clusters) ? json.clusters : [];
  const after = before.filter((c) => nameOf(c) !== name);
  if (after.length === before.length) throw new ConfigError(`Cluster ${name} is not in ${path}.`, 'It may have been removed already; refresh the view.');
  const tmp = `${path}.tmp-${process.pid}`;
  await writeFile(tmp, JSON.stringify({ ...json, clusters: after }, null, 2) + '\n', { mode: (await stat(path)).mode & 0o777 });
  await rename(tmp, path);
}
