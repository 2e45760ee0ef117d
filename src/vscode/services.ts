/** What every command and view shares: settings, the SSH session pool, secrets and the log. */
import * as vscode from 'vscode';
import type Docker from 'dockerode';
import { findCluster, findNode, type ClusterConfig, type NodeConfig } from '../core/config';
import { discoverCluster, type ClusterStatus, type ManagerStatus } from '../core/docker/discovery';
import { ConfigError } from '../core/errors';
import { SessionPool } from '../core/ssh/sessionPool';
import type { HostKeyInfo } from '../core/ssh/nodeSession';
import { configFilePath, loadClusters, type ClusterEntry } from './clusterSource';
import type { Log } from './log';
import { Passphrases } from './passphrases';
import { UcpApiClusters } from './api/apiClusters';
import { RunningBackups } from './runningBackups';

export const TRUST_HOST_KEY = 'Trust and Connect';

export class Services {
  readonly pool: SessionPool;
  readonly passphrases: Passphrases;
  /** UCP API clients of the clusters reached by URL (and login or client bundle). */
  readonly api: UcpApiClusters;
  /** Last discovery per cluster name, so commands pick nodes without reconnecting. */
  readonly statusCache = new Map<string, ClusterStatus>();
  /** Backups this window runs: stopped cleanly when it closes or reloads. */
  readonly running = new RunningBackups();

  constructor(
    readonly context: vscode.ExtensionContext,
    readonly log: Log,
  ) {
    this.passphrases = new Passphrases(context.secrets);
    this.api = new UcpApiClusters(context, log);
    this.pool = new SessionPool({
      confirmUnknownHostKey: (info) => this.confirmHostKey(info),
      keyPassphrase: (file) => this.passphrases.forSshKey(file),
      log: (line) => log.debug(line),
    });
  }

  /** ssh's own prompt, as a modal: the admin compares the SHA256 fingerprint out of band. */
  async confirmHostKey(info: HostKeyInfo): Promise<boolean> {
    const answer = await vscode.window.showWarningMessage(
      `The authenticity of host ${info.host}:${info.port} can't be established.`,
      {
        modal: true,
        detail: `${info.keyType} key fingerprint is ${info.fingerprint}.\nCompare it with the server's key before trusting it. It will be added to ${info.knownHostsFile}.`,
      },
      TRUST_HOST_KEY,
    );
    const ok = answer === TRUST_HOST_KEY;
    this.log.info(`Host key ${info.fingerprint} of ${info.host}:${info.port} ${ok ? 'trusted' : 'rejected'} by the user.`);
    return ok;
  }

  /** Clusters from the setting and the clusters file, validated. Throws ConfigError for the tree to show. */
  clusterEntries(): ClusterEntry[] {
    const config = vscode.workspace.getConfiguration('ucpBackup');
    // User settings only (the package.json scope is "application" too): a repository's
    // .vscode/settings.json must never point the extension at its own hosts, keys or files.
    const user = <T>(key: string): T | undefined => config.inspect<T>(key)?.globalValue;
    return loadClusters(user<unknown>('clusters') ?? [], configFilePath(user<string>('configFile')));
  }

  clusters(): ClusterConfig[] {
    return this.clusterEntries().map((e) => e.cluster);
  }

  /** Only the setting's own clusters (what Add / Remove Cluster edit). */
  settingClusters(): ClusterConfig[] {
    return this.clusterEntries().filter((e) => e.origin === 'setting').map((e) => e.cluster);
  }

  cluster(name: string): ClusterConfig {
    return findCluster({ clusters: this.clusters() }, name);
  }

  node(cluster: ClusterConfig, name: string): NodeConfig {
    return findNode(cluster, name);
  }

  private readonly discovering = new Map<string, Promise<ClusterStatus>>();

  /** One discovery per cluster at a time: the tree's manager and backup rows both ask at once. */
  discover(cluster: ClusterConfig): Promise<ClusterStatus> {
    let p = this.discovering.get(cluster.name);
    if (!p) {
      p = discoverCluster(cluster, this.pool)
        .then((status) => {
          this.statusCache.set(cluster.name, status);
          return status;
        })
        .finally(() => this.discovering.delete(cluster.name));
      this.discovering.set(cluster.name, p);
    }
    return p;
  }

  async docker(node: NodeConfig): Promise<Docker> {
    return this.pool.get(node).docker();
  }

  /** A manager that can be backed up, for cluster-wide reads (records, lock). */
  async anyManagerDocker(cluster: ClusterConfig): Promise<{ docker: Docker; manager: ManagerStatus } | undefined> {
    const status = this.statusCache.get(cluster.name) ?? (await this.discover(cluster));
    const ok = status.managers.find((m) => m.state === 'ok' && m.nodeConfig);
    if (!ok?.nodeConfig) return undefined;
    return { docker: await this.docker(ok.nodeConfig), manager: ok };
  }

  async requireManagerDocker(cluster: ClusterConfig): Promise<{ docker: Docker; manager: ManagerStatus }> {
    const found = await this.anyManagerDocker(cluster);
    if (!found) throw new ConfigError(`No manager of cluster "${cluster.name}" is reachable with UCP.`, 'Check the nodes in the UCP Backup view; their tooltips say what failed.');
    return found;
  }

  engine(): 'auto' | 'builtin' | 'official' {
    return vscode.workspace.getConfiguration('ucpBackup').get<'auto' | 'builtin' | 'official'>('engine') ?? 'auto';
  }

  defaultHostPath(): string {
    return vscode.workspace.getConfiguration('ucpBackup').get<string>('defaultHostPath') ?? '/var/backups/ucp';
  }

  async saveClusters(clusters: ClusterConfig[]): Promise<void> {
    await vscode.workspace.getConfiguration('ucpBackup').update('clusters', clusters, vscode.ConfigurationTarget.Global);
  }

  /**
   * The window closes or reloads: running backups are stopped as a cancel stops them (their
   * record says why) before the SSH sessions they use are closed.
   */
  async dispose(): Promise<void> {
    // By now VS Code has closed the extension host's channel: the output channel throws on
    // every line, so nothing here may depend on logging.
    const say = (line: string) => {
      try {
        this.log.info(line);
      } catch {
        // the window is gone
      }
    };
    if (this.running.count) {
      say(`The window is closing: stopping ${this.running.count} running backup(s).`);
      const left = await this.running.stopAll();
      if (left) say(`${left} backup(s) did not stop in time; their lock expires by its lease and the next start marks them interrupted.`);
    }
    this.pool.closeAll();
  }
}
