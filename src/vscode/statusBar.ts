/**
 * The status bar item: the last successful backup of the active cluster and its age, a
 * warning when it is old or the newest run failed, and a running backup's step while it runs.
 * "Active": the cluster of the tree item last selected, else the first configured. Clicking
 * it opens the UCP Backup view. The text comes from statusBarLook (pure, unit-tested). A
 * schedule that missed its run turns it to the warning colour, and says so once in a
 * notification (OverdueNotices).
 */
import * as vscode from 'vscode';
import type { BackupRecord } from '../core/history/record';
import type { ClusterConfig } from '../core/config';
import type { ClusterBackupStatus } from '../core/schedule/status';
import { overdueNotice, scheduleLook } from './scheduleLook';
import { statusBarLook } from './statusBarLook';

export { STALE_BACKUP_MS, statusBarLook } from './statusBarLook';

/** A backup's current step, reported by the Backup Now flow (one cluster at a time). */
export class BackupActivity {
  private readonly steps = new Map<string, string>();
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChange = this.changed.event;

  report(cluster: string, step: string): void {
    this.steps.set(cluster, step);
    this.changed.fire();
  }

  done(cluster: string): void {
    this.steps.delete(cluster);
    this.changed.fire();
  }

  step(cluster: string): string | undefined {
    return this.steps.get(cluster);
  }
}

export const backupActivity = new BackupActivity();

export class BackupStatusBar implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem('ucpBackup.status', vscode.StatusBarAlignment.Left, 40);
  private readonly subscriptions: vscode.Disposable[] = [];
  private active: string | undefined;
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly clusters: () => string[],
    private readonly records: (cluster: string) => readonly BackupRecord[] | undefined,
    onTreeChange: vscode.Event<unknown>,
    selection: vscode.TreeView<unknown>,
    private readonly schedules: (cluster: string) => ClusterBackupStatus | undefined = () => undefined,
  ) {
    this.item.name = 'UCP Backup';
    this.item.command = 'workbench.view.extension.ucpBackup';
    this.subscriptions.push(
      onTreeChange(() => this.update()),
      backupActivity.onDidChange(() => this.update()),
      selection.onDidChangeSelection((e) => {
        const c = (e.selection[0] as { cluster?: { name?: string } } | undefined)?.cluster?.name;
        if (c) this.active = c;
        this.update();
      }),
    );
    // The age moves on by itself.
    this.timer = setInterval(() => this.update(), 60_000);
    this.update();
  }

  update(): void {
    const names = this.clusters();
    const cluster = this.active && names.includes(this.active) ? this.active : names[0];
    if (!cluster) {
      this.item.hide();
      return;
    }
    const status = this.schedules(cluster);
    const look = statusBarLook(cluster, this.records(cluster), backupActivity.step(cluster), Date.now(), status && scheduleLook(status));
    this.item.text = look.text;
    this.item.tooltip = look.tooltip;
    this.item.backgroundColor = look.warning ? new vscode.ThemeColor('statusBarItem.warningBackground') : undefined;
    this.item.show();
  }

  dispose(): void {
    clearInterval(this.timer);
    for (const s of this.subscriptions) s.dispose();
    this.item.dispose();
  }
}

/**
 * "Overdue" said once per spell (a missed run after the last good one), not on every refresh
 * and not again after a reload: the keys seen are kept in the extension's global state.
 */
export class OverdueNotices {
  private static readonly KEY = 'ucpBackup.overdueNoticed';
  /** A list older than this is read again before it may notify. */
  static readonly FRESH_MS = 60_000;

  constructor(
    private readonly state: vscode.Memento,
    private readonly clusters: () => ClusterConfig[],
    private readonly status: (cluster: string) => ClusterBackupStatus | undefined,
    /** When the cluster's list was read: only a fresh one may say "overdue" (else re-read first). */
    private readonly loadedAt: (cluster: string) => number | undefined = () => Date.now(),
    private readonly reread: () => void = () => undefined,
  ) {}

  check(): void {
    const seen = new Set(this.state.get<string[]>(OverdueNotices.KEY) ?? []);
    for (const cluster of this.clusters()) {
      const s = this.status(cluster.name);
      const notice = s && overdueNotice(s);
      if (!notice || seen.has(notice.key)) continue;
      if (Date.now() - (this.loadedAt(cluster.name) ?? 0) > OverdueNotices.FRESH_MS) {
        this.reread();
        continue;
      }
      seen.add(notice.key);
      void this.state.update(OverdueNotices.KEY, [...seen].slice(-200));
      void vscode.window.showWarningMessage(notice.text, 'Backup Now').then((a) => a && vscode.commands.executeCommand('ucpBackup.backupNow', { kind: 'cluster', cluster }));
    }
  }
}
