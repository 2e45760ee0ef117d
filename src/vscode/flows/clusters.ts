/**
 * "UCP: Add Cluster" (guided, connection tested before saving) and "UCP: Remove Cluster".
 * Saved into the user's `ucpBackup.clusters` setting; Remove edits the settings scope or the
 * clusters file the cluster came from (clusterEdits.ts).
 */
import * as vscode from 'vscode';
import { homedir } from 'node:os';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { DEFAULT_DOCKER_SOCKET, type ClusterConfig, type NodeConfig } from '../../core/config';
import { discoverCluster, type ClusterStatus } from '../../core/docker/discovery';
import { describeError } from '../../core/errors';
import { SessionPool } from '../../core/ssh/sessionPool';
import { buildNode, defaultKnownHostsFile, parseSshTarget, planClusterRemoval, removeClusterFromFile, type SettingScope } from '../clusterEdits';
import { showError } from '../log';
import { addApiCluster, pickClusterAccess } from './apiCluster';
import { clusterOfSwarm, managersToAsk, nameByHostname, nodeForManager } from './addClusterChecks';
import { sshCandidates } from './sshTargets';
import type { Services } from '../services';
import type { BackupTreeProvider, UcpNode } from '../tree/provider';
import { nodePresentation } from '../tree/presentation';

export const AUTH_AGENT = 'SSH agent';
export const AUTH_KEY = 'Private key file…';
export const SAVE_ANYWAY = 'Save Anyway';
export const REMOVE_BUTTON = 'Remove';
export const KNOWN_HOSTS_DEFAULT = 'Default known_hosts';
export const KNOWN_HOSTS_OTHER = 'Other known_hosts file…';

export const SAME_SWARM = (other: string) => `This swarm is already configured as cluster ${other}.`;

/**
 * After a good connection test: refuses a swarm that is already a configured cluster (its
 * backups would be listed twice), names the node by its hostname, and asks for the SSH
 * endpoint of each manager the swarm lists that did not answer on the first node's settings.
 */
async function checkedSwarm(services: Services, cluster: ClusterConfig, status: ClusterStatus): Promise<boolean> {
  const known: ClusterStatus[] = [];
  for (const c of services.clusters()) {
    if (c.nodes.length === 0) continue; // reached through the UCP API only: no swarm ID to compare
    const s = services.statusCache.get(c.name) ?? (await services.discover(c).catch(() => undefined));
    if (s) known.push(s);
  }
  const other = clusterOfSwarm(status.swarmId, known);
  if (other) {
    services.log.warn(`Add cluster ${cluster.name}: refused, swarm ${status.swarmId} is cluster ${other}.`);
    await vscode.window.showErrorMessage(SAME_SWARM(other), { modal: true, detail: `Swarm ID ${status.swarmId}. Its backups would be listed twice; add more managers to ${other} in the settings instead.` });
    return false;
  }
  const seed = cluster.nodes[0];
  const mine = status.managers.find((m) => m.nodeConfig === seed);
  cluster.nodes[0] = nameByHostname(seed, mine?.hostname);
  for (const m of managersToAsk(status)) {
    const seedPort = seed.port ?? 22;
    const answer = await input(
      `SSH endpoint of ${m.hostname ?? m.name}`,
      `The swarm lists this manager at ${m.address}; it did not answer on SSH port ${seedPort}. Give its [user@]host[:port], or press Escape to leave it out.`,
      `${m.address}:${seedPort}`,
      (v) => (parseSshTarget(v) ? undefined : 'Give host, user@host or user@host:port.'),
    );
    const target = answer === undefined ? undefined : parseSshTarget(answer);
    if (target) cluster.nodes.push(nodeForManager(cluster.nodes[0], m, target));
  }
  return true;
}

const SCOPE_TARGET: Record<SettingScope, vscode.ConfigurationTarget> = {
  globalValue: vscode.ConfigurationTarget.Global,
  workspaceValue: vscode.ConfigurationTarget.Workspace,
  workspaceFolderValue: vscode.ConfigurationTarget.WorkspaceFolder,
};

const input = (title: string, prompt: string, value = '', validate?: (v: string) => string | undefined) =>
  vscode.window.showInputBox({ title, prompt, value, ignoreFocusOut: true, validateInput: validate });

export const TYPE_DESTINATION = 'Type an SSH destination…';

/** An alias of ~/.ssh/config or an ssh:// Docker context, picked; or the destination typed. */
async function pickOrTypeTarget(title: string): Promise<string | undefined> {
  const candidates = await sshCandidates();
  if (candidates.length) {
    const picked = await vscode.window.showQuickPick(
      [{ label: TYPE_DESTINATION, description: 'host, user@host or user@host:port' }, ...candidates.map((c) => ({ label: c.target, description: c.source }))],
      { title: `${title}: SSH destination`, ignoreFocusOut: true, matchOnDescription: true },
    );
    if (!picked) return undefined;
    if (picked.label !== TYPE_DESTINATION) return picked.label;
  }
  return input(title, 'SSH destination: host, address or ~/.ssh/config alias, optionally user@host:port', '', (v) => (parseSshTarget(v) ? undefined : 'Give host, user@host or user@host:port.'));
}

async function askNode(clusterName: string): Promise<NodeConfig | undefined> {
  const title = `Add a manager of ${clusterName}`;
  const raw = await pickOrTypeTarget(title);
  const target = raw === undefined ? undefined : parseSshTarget(raw);
  if (!target) return undefined;
  const username = target.username ?? (await input(title, 'SSH user (empty: from ~/.ssh/config or your login name)'));
  if (username === undefined) return undefined;
  const auth = await vscode.window.showQuickPick([{ label: AUTH_AGENT, description: '$SSH_AUTH_SOCK' }, { label: AUTH_KEY }], { title: `${title}: authentication`, ignoreFocusOut: true });
  if (!auth) return undefined;
  let identityFile: string | undefined;
  if (auth.label === AUTH_KEY) {
    const sshDir = join(homedir(), '.ssh');
    const files = await vscode.window.showOpenDialog({ title: 'SSH private key', canSelectMany: false, defaultUri: existsSync(sshDir) ? vscode.Uri.file(sshDir) : undefined, openLabel: 'Use this key' });
    if (!files?.[0]) return undefined;
    identityFile = files[0].fsPath;
  }
  const knownHostsFile = await askKnownHosts(title, { ...target, username: username || undefined });
  if (!knownHostsFile) return undefined;
  const dockerSocket = await input(`${title}: Docker socket`, 'Docker socket on the node', DEFAULT_DOCKER_SOCKET, (v) => (v.startsWith('/') ? undefined : 'An absolute path.'));
  if (!dockerSocket) return undefined;
  return buildNode({ host: target.host, port: target.port, username, identityFile, dockerSocket, knownHostsFile });
}

/**
 * The known_hosts file host keys are checked against — and a trusted new key is appended
 * to: the default ssh would use, or one the admin picks (e.g. a team-managed file).
 */
async function askKnownHosts(title: string, target: { host: string; port?: number; username?: string }): Promise<string | undefined> {
  const fallback = defaultKnownHostsFile(target);
  const picked = await vscode.window.showQuickPick(
    [
      { label: KNOWN_HOSTS_DEFAULT, description: fallback, detail: 'Host keys are checked against this file; a key you trust is added to it.' },
      { label: KNOWN_HOSTS_OTHER, detail: 'Pick the known_hosts file this cluster is checked against.' },
    ],
    { title: `${title}: known_hosts`, ignoreFocusOut: true },
  );
  if (!picked) return undefined;
  if (picked.label === KNOWN_HOSTS_DEFAULT) return fallback;
  const files = await vscode.window.showOpenDialog({ title: 'known_hosts file', canSelectMany: false, defaultUri: vscode.Uri.file(dirname(fallback)), openLabel: 'Use this known_hosts' });
  return files?.[0]?.fsPath;
}

export async function addCluster(services: Services, tree: BackupTreeProvider): Promise<ClusterConfig | undefined> {
  const existing = services.clusters().map((c) => c.name);
  const name = await input('Add UCP cluster', 'A name for the cluster', existing.length ? '' : 'production', (v) =>
    !v.trim() ? 'Required.' : existing.includes(v.trim()) ? 'A cluster of that name exists.' : undefined,
  );
  if (!name) return undefined;
  const access = await pickClusterAccess(name.trim());
  if (!access) return undefined;
  if (access !== 'ssh') return addApiCluster(services, tree, name.trim(), access);
  const node = await askNode(name.trim());
  if (!node) return undefined;
  const cluster: ClusterConfig = { name: name.trim(), nodes: [node] };

  // Test before saving: connect and discover with a throwaway pool (host-key prompt included).
  const pool = new SessionPool(services.pool.options);
  let verdict: string;
  let ok = false;
  let status: ClusterStatus | undefined;
  try {
    status = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `Testing the connection to ${node.host}…` }, () => discoverCluster(cluster, pool));
    const mine = status.managers.find((m) => m.nodeConfig && !m.discoveredVia);
    ok = mine?.state === 'ok';
    verdict = mine ? `${mine.name}: ${nodePresentation(mine).description}${mine.error ? ` — ${mine.error}` : ''}` : 'no answer';
    if (ok) verdict += ` (${status.managers.length} manager${status.managers.length === 1 ? '' : 's'} in the swarm)`;
  } catch (err) {
    verdict = describeError(err);
  } finally {
    pool.closeAll();
  }
  services.log.info(`Add cluster ${cluster.name}: connection test: ${verdict}`);
  if (ok && status && !(await checkedSwarm(services, cluster, status))) return undefined;
  if (!ok) {
    const again = await vscode.window.showWarningMessage(`The connection test failed: ${verdict}`, { modal: true, detail: 'Save the cluster anyway and fix it later in the settings?' }, SAVE_ANYWAY);
    if (again !== SAVE_ANYWAY) return undefined;
  }
  try {
    await services.saveClusters([...services.settingClusters(), cluster]);
  } catch (err) {
    await showError(services.log, 'Cannot save the cluster', err);
    return undefined;
  }
  tree.refresh();
  if (ok) void vscode.window.showInformationMessage(`Cluster ${cluster.name} added: ${verdict}.`);
  return cluster;
}

export async function removeCluster(services: Services, tree: BackupTreeProvider, arg?: UcpNode): Promise<void> {
  const entries = services.clusterEntries();
  let name = arg && 'cluster' in arg ? arg.cluster.name : undefined;
  if (!name) {
    const picked = await vscode.window.showQuickPick(entries.map((e) => ({ label: e.cluster.name, description: e.origin === 'setting' ? 'settings' : e.origin })), { title: 'Remove which cluster?' });
    name = picked?.label;
  }
  const entry = entries.find((e) => e.cluster.name === name);
  if (!entry) return;
  const config = vscode.workspace.getConfiguration('ucpBackup');
  const plan = planClusterRemoval(entry, config.inspect('clusters') ?? {});
  const where = plan.source === 'file' ? `the clusters file ${plan.path}` : 'your settings';
  const answer = await vscode.window.showWarningMessage(
    `Remove cluster ${entry.cluster.name} from UCP Backup?`,
    { modal: true, detail: `It is removed from ${where}; its stored passphrase is forgotten. Backups and their records stay where they are.` },
    REMOVE_BUTTON,
  );
  if (answer !== REMOVE_BUTTON) return;
  try {
    if (plan.source === 'file') await removeClusterFromFile(plan.path, entry.cluster.name);
    else for (const e of plan.edits) await config.update('clusters', e.value, SCOPE_TARGET[e.scope]);
  } catch (err) {
    await showError(services.log, `Cannot remove cluster ${entry.cluster.name}`, err);
    return;
  }
  services.log.info(`Cluster ${entry.cluster.name} removed from ${where}.`);
  await services.passphrases.forget(entry.cluster.name);
  const othersOnUrl = entries.some((e) => e !== entry && !!entry.cluster.ucpUrl && e.cluster.ucpUrl === entry.cluster.ucpUrl);
  await services.api.forget(entry.cluster, othersOnUrl);
  for (const n of entry.cluster.nodes) services.pool.forget(n);
  tree.refresh();
}
