/**
 * The status bar item: the last successful backup of the active cluster and its age, a
 * warning when it is old or the newest run failed, and a running backup's step while it runs.
 * "Active": the cluster of the tree item last selected, else the first configured. Clicking
 * it opens the UCP Backup view. The text comes from statusBarLook (pure, unit-tested).
 */
import * as vscode from 'vscode';
import type { BackupRecord } from '../core/history/record';
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
    const look = statusBarLook(cluster, this.records(cluster), backupActivity.step(cluster));
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
