/**
 * The "Clusters" tree: Clusters → manager nodes (by discovery) and a "Backups" group.
 * Loading and errors are tree items too: the admin never sees a silent empty list.
 */
import * as vscode from 'vscode';
import { isApiCluster, type ClusterConfig } from '../../core/config';
import type { ClusterStatus } from '../../core/docker/discovery';
import { describeError } from '../../core/errors';
import type { BackupRecord } from '../../core/history/record';
import type { Services } from '../services';
import { apiClusterRow, loadApiClusterBackups, type BackupListing } from '../api/apiBackupList';
import { listClusterSchedules } from '../../core/schedule/clusterSchedule';
import { clusterBackupStatus, type ClusterBackupStatus } from '../../core/schedule/status';
import { scheduleLook } from '../scheduleLook';
import { mergedBackupPresentation } from '../api/apiPresentation';
import { loadBackupHistory, localFileFacts } from './backupList';
import { copyChecked } from './backupPresentation';
import { listedCopies } from '../../core/copy/copyRecord';
import { DEFAULT_MAX_BACKUPS_SHOWN, anyInProgress, capBackups, moreLabel, nodePresentation, withBackupFacts, type Presentation } from './presentation';

export type UcpNode =
  | { kind: 'cluster'; cluster: ClusterConfig }
  | { kind: 'node'; cluster: ClusterConfig; status: ClusterStatus['managers'][number] }
  | { kind: 'backups'; cluster: ClusterConfig }
  | { kind: 'backup'; cluster: ClusterConfig; record: BackupRecord }
  /** The older records beyond ucpBackup.maxBackupsShown, listed when expanded. */
  | { kind: 'more'; cluster: ClusterConfig; records: BackupRecord[] }
  | { kind: 'message'; id: string; label: string; detail?: string; icon: string; color?: string; command?: vscode.Command };

type Load<T> = { state: 'loading' } | { state: 'done'; value: T } | { state: 'error'; error: unknown };

const AUTO_REFRESH_MS = 3000;

export class BackupTreeProvider implements vscode.TreeDataProvider<UcpNode>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<UcpNode | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  private readonly discovery = new Map<string, Load<ClusterStatus>>();
  private readonly backups = new Map<string, Load<BackupListing>>();
  private readonly loadTimes = new Map<string, number>();
  private timer: NodeJS.Timeout | undefined;
  /** Backups started from this window, so the list refreshes while they run. */
  private running = 0;

  constructor(private readonly services: Services) {}

  refresh(): void {
    this.services.pool.forgetFailures(); // an explicit refresh retries nodes that just failed to connect
    this.discovery.clear();
    this.backups.clear();
    this.services.statusCache.clear();
    this.changed.fire(undefined);
  }

  /** The backup list of a cluster as last loaded (newest first), for the status bar; undefined while loading. */
  loadedRecords(cluster: string): readonly BackupRecord[] | undefined {
    const load = this.backups.get(cluster);
    return load?.state === 'done' ? load.value.records : undefined;
  }

  /** The cluster's state against its schedules (undefined while loading or without any schedule). */
  scheduleStatus(cluster: string, now = new Date()): ClusterBackupStatus | undefined {
    const load = this.backups.get(cluster);
    if (load?.state !== 'done' || !load.value.schedules?.length) return undefined;
    return clusterBackupStatus(cluster, load.value.records, load.value.schedules, now);
  }

  /** When the cluster's backup list was last read (undefined while loading). */
  loadedAt(cluster: string): number | undefined {
    return this.backups.get(cluster)?.state === 'done' ? this.loadTimes.get(cluster) : undefined;
  }

  /**
   * Re-reads the lists of clusters with schedules that are older than `maxAgeMs`: a window left
   * open overnight must see the 02:00 run, not call it overdue from the list it read at 18:00.
   */
  refreshScheduled(maxAgeMs: number, now = Date.now()): void {
    let stale = false;
    for (const [cluster, load] of this.backups) {
      if (load.state === 'done' && load.value.schedules?.length && now - (this.loadTimes.get(cluster) ?? 0) > maxAgeMs) {
        this.backups.delete(cluster);
        stale = true;
      }
    }
    if (stale) this.changed.fire(undefined);
  }

  /** Only the backup lists (cheap: no rediscovery). */
  refreshBackups(): void {
    this.backups.clear();
    this.changed.fire(undefined);
  }

  /** Called around a backup run: refresh the list while it runs. */
  backupStarted(): void {
    this.running++;
    this.refreshBackups();
    this.ensureTimer();
  }

  backupFinished(): void {
    this.running = Math.max(0, this.running - 1);
    this.refreshBackups();
  }

  private ensureTimer(): void {
    if (this.timer) return;
    this.timer = setInterval(() => {
      const inProgress = [...this.backups.values()].some((l) => l.state === 'done' && anyInProgress(l.value.records));
      if (this.running === 0 && !inProgress) {
        clearInterval(this.timer);
        this.timer = undefined;
        return;
      }
      this.refreshBackups();
    }, AUTO_REFRESH_MS);
  }

  getTreeItem(node: UcpNode): vscode.TreeItem {
    switch (node.kind) {
      case 'cluster': {
        const item = new vscode.TreeItem(node.cluster.name, vscode.TreeItemCollapsibleState.Expanded);
        item.id = `cluster:${node.cluster.name}`;
        item.contextValue = 'cluster';
        item.iconPath = new vscode.ThemeIcon('server-environment');
        const load = this.discovery.get(node.cluster.name);
        if (load?.state === 'done') {
          const v = load.value.ucpVersion;
          item.description = `${v ? `UCP ${v} · ` : ''}${load.value.managers.length} manager${load.value.managers.length === 1 ? '' : 's'}`;
        }
        item.tooltip = [node.cluster.name, node.cluster.ucpUrl ?? '', `${node.cluster.nodes.length} configured node(s)`].filter(Boolean).join('\n');
        return item;
      }
      case 'node': {
        const p = nodePresentation(node.status, this.services.engine());
        return this.itemFrom(p, `node:${node.cluster.name}:${p.label}`, vscode.TreeItemCollapsibleState.None);
      }
      case 'backups': {
        const item = new vscode.TreeItem('Backups', vscode.TreeItemCollapsibleState.Expanded);
        item.id = `backups:${node.cluster.name}`;
        item.contextValue = 'backups';
        item.iconPath = new vscode.ThemeIcon('archive');
        const load = this.backups.get(node.cluster.name);
        if (load?.state === 'done') item.description = String(load.value.records.length);
        const status = this.scheduleStatus(node.cluster.name);
        const look = status && scheduleLook(status);
        if (look) {
          item.description = `${item.description} · ${look.short}`;
          item.tooltip = [`Backups of ${node.cluster.name}`, ...look.lines].join('\n');
          if (look.overdue) item.iconPath = new vscode.ThemeIcon('warning', new vscode.ThemeColor('problemsWarningIcon.foreground'));
        }
        return item;
      }
      case 'backup': {
        const p = withBackupFacts(mergedBackupPresentation(node.record), node.record, localFileFacts(node.record));
        // Its off-site copies are its children.
        const state = listedCopies(node.record).length ? vscode.TreeItemCollapsibleState.Collapsed : vscode.TreeItemCollapsibleState.None;
        const item = this.itemFrom(p, `backup:${node.cluster.name}:${node.record.id}`, state);
        item.command = { command: 'ucpBackup.showDetails', title: 'Show Backup Details', arguments: [node] };
        return item;
      }
      case 'more': {
        const item = new vscode.TreeItem(moreLabel(node.records.length), vscode.TreeItemCollapsibleState.Collapsed);
        item.id = `more:${node.cluster.name}`;
        item.contextValue = 'more';
        item.iconPath = new vscode.ThemeIcon('history');
        item.tooltip = `Older backups beyond the newest ${this.maxShown()} (setting ucpBackup.maxBackupsShown)`;
        return item;
      }
      case 'message': {
        const item = new vscode.TreeItem(node.label, vscode.TreeItemCollapsibleState.None);
        item.id = node.id;
        item.contextValue = 'message';
        item.iconPath = new vscode.ThemeIcon(node.icon, node.color ? new vscode.ThemeColor(node.color) : undefined);
        item.tooltip = node.detail;
        item.description = node.detail;
        item.command = node.command;
        return item;
      }
    }
  }

  private itemFrom(p: Presentation, id: string, state: vscode.TreeItemCollapsibleState): vscode.TreeItem {
    const item = new vscode.TreeItem(p.label, state);
    item.id = id;
    item.description = p.description;
    item.tooltip = p.tooltip;
    item.contextValue = p.contextValue;
    item.iconPath = new vscode.ThemeIcon(p.icon, p.color ? new vscode.ThemeColor(p.color) : undefined);
    return item;
  }

  getChildren(node?: UcpNode): UcpNode[] {
    if (!node) return this.roots();
    if (node.kind === 'cluster') return this.clusterChildren(node.cluster);
    if (node.kind === 'backups') return this.backupChildren(node.cluster);
    if (node.kind === 'more') return node.records.map((record) => ({ kind: 'backup', cluster: node.cluster, record }));
    if (node.kind === 'backup') {
      return listedCopies(node.record).map((c) => ({ kind: 'message', id: `copy:${node.cluster.name}:${node.record.id}:${c.location}`, label: c.location, detail: `copy · ${copyChecked(c)}`, icon: 'cloud-upload' }));
    }
    return [];
  }

  private roots(): UcpNode[] {
    try {
      // An empty list shows the viewsWelcome ("Add Cluster").
      return this.services.clusters().map((cluster) => ({ kind: 'cluster', cluster }));
    } catch (err) {
      return [
        {
          kind: 'message',
          id: 'config-error',
          label: 'The ucpBackup.clusters setting is invalid',
          detail: describeError(err),
          icon: 'error',
          color: 'errorForeground',
          command: { command: 'workbench.action.openSettingsJson', title: 'Open Settings' },
        },
      ];
    }
  }

  /** Starts a load once; the tree shows "Loading…" until it fires a change. */
  private load<T>(cache: Map<string, Load<T>>, key: string, run: () => Promise<T>): Load<T> {
    const current = cache.get(key);
    if (current) return current;
    const loading: Load<T> = { state: 'loading' };
    cache.set(key, loading);
    run().then(
      (value) => {
        if (cache.get(key) === loading) cache.set(key, { state: 'done', value });
        if (cache === (this.backups as unknown)) this.loadTimes.set(key, Date.now());
        this.changed.fire(undefined);
        if (cache === (this.backups as unknown) && anyInProgress((value as { records: BackupRecord[] }).records)) this.ensureTimer();
      },
      (error) => {
        if (cache.get(key) === loading) cache.set(key, { state: 'error', error });
        this.services.log.warn(`Tree: ${key}: ${describeError(error)}`);
        this.changed.fire(undefined);
      },
    );
    return loading;
  }

  private clusterChildren(cluster: ClusterConfig): UcpNode[] {
    // Reached through the UCP API only: nothing to discover over SSH.
    if (cluster.nodes.length === 0) return [{ kind: 'message', id: `api:${cluster.name}`, ...apiClusterRow(cluster) }, { kind: 'backups', cluster }];
    const load = this.load(this.discovery, cluster.name, () => this.services.discover(cluster));
    const backups: UcpNode = { kind: 'backups', cluster };
    if (load.state === 'loading') {
      return [{ kind: 'message', id: `loading:${cluster.name}`, label: 'Connecting to managers…', icon: 'loading~spin' }, backups];
    }
    if (load.state === 'error') {
      return [
        {
          kind: 'message',
          id: `error:${cluster.name}`,
          label: 'Cannot read the cluster',
          detail: describeError(load.error),
          icon: 'error',
          color: 'errorForeground',
          command: { command: 'ucpBackup.refresh', title: 'Retry' },
        },
        backups,
      ];
    }
    const managers: UcpNode[] = load.value.managers.map((status) => ({ kind: 'node', cluster, status }));
    if (managers.length === 0) managers.push({ kind: 'message', id: `none:${cluster.name}`, label: 'No manager nodes found', icon: 'warning' });
    return [...managers, backups];
  }

  private backupChildren(cluster: ClusterConfig): UcpNode[] {
    const sshLoad = async () => {
      // Cluster records live on the managers; local-file records also on this machine.
      let docker;
      let note: string | undefined;
      try {
        docker = (await this.services.anyManagerDocker(cluster))?.docker;
        if (!docker) note = 'No manager is reachable: showing backups recorded on this machine only.';
      } catch (err) {
        note = `Cluster records unavailable: ${describeError(err)}`;
      }
      const { records, malformed } = await loadBackupHistory(cluster, docker, (level, line) => this.services.log[level](`Tree: ${line}`));
      const schedules = docker ? await listClusterSchedules(docker).catch((err) => (this.services.log.warn(`Tree: cannot read the schedules of ${cluster.name}: ${describeError(err)}`), [])) : [];
      return { records, malformed, note, schedules };
    };
    // An API cluster lists UCP's records, merged with the SSH history when it has nodes too.
    const load = this.load(this.backups, cluster.name, () => (isApiCluster(cluster) ? loadApiClusterBackups(this.services, cluster, cluster.nodes.length ? sshLoad : undefined) : sshLoad()));
    if (load.state === 'loading') return [{ kind: 'message', id: `loading-backups:${cluster.name}`, label: 'Loading backups…', icon: 'loading~spin' }];
    if (load.state === 'error') {
      return [{ kind: 'message', id: `error-backups:${cluster.name}`, label: 'Cannot list backups', detail: describeError(load.error), icon: 'error', color: 'errorForeground', command: { command: 'ucpBackup.refresh', title: 'Retry' } }];
    }
    const { shown, rest } = capBackups(load.value.records, this.maxShown());
    const items: UcpNode[] = shown.map((record) => ({ kind: 'backup', cluster, record }));
    if (rest.length) items.push({ kind: 'more', cluster, records: rest });
    for (const m of load.value.malformed) {
      items.push({ kind: 'message', id: `malformed:${cluster.name}:${m.source}`, label: 'Malformed backup record', detail: `${m.source}: ${m.problem} (written by another version or edited by hand; skipped)`, icon: 'warning', color: 'problemsWarningIcon.foreground' });
    }
    if (load.value.note) items.unshift({ kind: 'message', id: `note-backups:${cluster.name}`, label: 'Partial list', detail: load.value.note, icon: 'warning', color: 'problemsWarningIcon.foreground' });
    if (load.value.records.length === 0) items.push({ kind: 'message', id: `empty-backups:${cluster.name}`, label: 'No backups yet', detail: 'Run "UCP: Backup Now"', icon: 'info', command: { command: 'ucpBackup.backupNow', title: 'Backup Now', arguments: [{ kind: 'cluster', cluster }] } });
    return items;
  }

  private maxShown(): number {
    return vscode.workspace.getConfiguration('ucpBackup').get<number>('maxBackupsShown') ?? DEFAULT_MAX_BACKUPS_SHOWN;
  }

  dispose(): void {
    if (this.timer) clearInterval(this.timer);
    this.changed.dispose();
  }
}
