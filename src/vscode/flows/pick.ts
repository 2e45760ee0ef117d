/** Quick picks shared by the commands: cluster and node selection, keyboard-first. */
import * as vscode from 'vscode';
import type { ClusterConfig, NodeConfig } from '../../core/config';
import type { ManagerStatus } from '../../core/docker/discovery';
import type { Services } from '../services';
import { engineLine, nodePresentation } from '../tree/presentation';

export async function pickCluster(services: Services, name?: string): Promise<ClusterConfig | undefined> {
  if (name) return services.cluster(name);
  const clusters = services.clusters();
  if (clusters.length === 0) {
    const add = await vscode.window.showInformationMessage('No UCP cluster is configured yet.', 'Add Cluster');
    if (add) await vscode.commands.executeCommand('ucpBackup.addCluster');
    return undefined;
  }
  if (clusters.length === 1) return clusters[0];
  const picked = await vscode.window.showQuickPick(
    clusters.map((c) => ({ label: c.name, description: c.nodes.map((n) => n.name).join(', '), cluster: c })),
    { title: 'Cluster', placeHolder: 'Pick a cluster', ignoreFocusOut: true },
  );
  return picked?.cluster;
}

/** A manager to back up from: discovered ones that are ready (`state: ok`) first. */
export async function pickManager(services: Services, cluster: ClusterConfig): Promise<{ node: NodeConfig; status?: ManagerStatus } | undefined> {
  const status = await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: `Connecting to the managers of ${cluster.name}…` },
    () => services.statusCache.get(cluster.name) ? Promise.resolve(services.statusCache.get(cluster.name)!) : services.discover(cluster),
  );
  const ready = status.managers.filter((m) => m.state === 'ok' && m.nodeConfig);
  if (ready.length === 0) {
    const why = status.managers.map((m) => `${m.name}: ${m.error ?? m.state}`).join('; ');
    throw new Error(`No manager of cluster "${cluster.name}" can be backed up now (${why}).`);
  }
  if (ready.length === 1) return { node: ready[0].nodeConfig!, status: ready[0] };
  const picked = await vscode.window.showQuickPick(
    ready.map((m) => ({ label: m.name, description: nodePresentation(m).description, detail: engineLine(m, services.engine()), m })),
    { title: 'Manager node', placeHolder: 'Back up from which manager? (UCP stores the same data on all managers)', ignoreFocusOut: true },
  );
  return picked ? { node: picked.m.nodeConfig!, status: picked.m } : undefined;
}
