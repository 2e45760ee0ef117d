/** Wires the extension: log, services, tree, details panels, commands. */
import * as vscode from 'vscode';
import { registerCommands } from './commands';
import { BackupViews } from './flows/details';
import { createLog } from './log';
import { DetailsPanels } from './panels/detailsPanel';
import { Services } from './services';
import { BackupTreeProvider } from './tree/provider';
import { BackupStatusBar, OverdueNotices } from './statusBar';

let services: Services | undefined;

export function activate(context: vscode.ExtensionContext): void {
  const log = createLog();
  services = new Services(context, log);
  const tree = new BackupTreeProvider(services);
  const views = new BackupViews(services);
  const panels = new DetailsPanels(context.extensionUri, log, (ref) => views.source(ref));
  views.panels = panels;
  const treeView = vscode.window.createTreeView('ucpBackup.tree', { treeDataProvider: tree, showCollapseAll: true, canSelectMany: true });
  const overdue = new OverdueNotices(context.globalState, () => safeClusters(services!), (c) => tree.scheduleStatus(c), (c) => tree.loadedAt(c), () => tree.refreshScheduled(OverdueNotices.FRESH_MS));

  context.subscriptions.push(
    log,
    tree,
    treeView,
    panels.register(),
    { dispose: () => panels.dispose() },
    ...registerCommands(services, tree, views),
    new BackupStatusBar(() => services!.clusters().map((c) => c.name), (c) => tree.loadedRecords(c), tree.onDidChangeTreeData, treeView, (c) => tree.scheduleStatus(c)),
    tree.onDidChangeTreeData(() => overdue.check()),
    // A run is missed (or made) as time passes, with no refresh: each minute the lists of
    // scheduled clusters older than 10 min are read again, then judged.
    disposableInterval(() => {
      tree.refreshScheduled(10 * 60_000);
      overdue.check();
    }, 60_000),
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (e.affectsConfiguration('ucpBackup.clusters') || e.affectsConfiguration('ucpBackup.configFile')) {
        // Sessions are keyed by endpoint: a changed node gets a new one; running backups keep theirs.
        tree.refresh();
      } else if (e.affectsConfiguration('ucpBackup.maxBackupsShown')) {
        tree.refreshBackups();
      }
    }),
  );
  log.info(`UCP Backup ${context.extension.packageJSON.version as string} activated.`);
}

function disposableInterval(f: () => void, ms: number): vscode.Disposable {
  const t = setInterval(f, ms);
  return { dispose: () => clearInterval(t) };
}

/** The clusters, or none while the setting is invalid (the tree shows that error). */
function safeClusters(s: Services) {
  try {
    return s.clusters();
  } catch {
    return [];
  }
}

/** VS Code awaits this (about 5 s at most) when the window closes or reloads. */
export async function deactivate(): Promise<void> {
  const s = services;
  services = undefined;
  await s?.dispose();
}
