/**
 * What a details / verify / compare panel shows for a PanelRef, and the commands that open
 * one: "Verify Backup" (explorer .tar, tree item, palette file picker) and "Show Backup Details".
 */
import * as vscode from 'vscode';
import { existsSync, statSync } from 'node:fs';
import { basename } from 'node:path';
import { CancelledError, describeError } from '../../core/errors';
import { listBackups } from '../../core/history/backupHistory';
import type { BackupRecord } from '../../core/history/record';
import type { VerifyReport } from '../../core/verify/report';
import { diffBackups } from '../coreAdapters';
import type { PanelContent, PanelRef, ReportView } from '../../shared/protocol';
import type { DetailsPanels, PanelSource } from '../panels/detailsPanel';
import { toDiffView, toReportView } from '../panels/views';
import type { Services } from '../services';
import { localFileFacts } from '../tree/backupList';
import type { UcpNode } from '../tree/provider';
import { labelOf, loadRecord, verifySourceFor, verifyWithPassphrase } from './backupAccess';
import { showBackupLog } from './backupLog';
import { notABackupReport } from './invalidReport';
import { olderFirst } from '../../shared/compareOrder';

type Progress = (message: string, percent?: number) => void;

export class BackupViews {
  panels!: DetailsPanels;

  constructor(private readonly services: Services) {}

  /** Verifies what `ref` points at (a backup or a file); undefined = cancelled. */
  async verifyRef(ref: PanelRef, progress: Progress, signal?: AbortSignal, known?: BackupRecord): Promise<{ report: VerifyReport; record?: BackupRecord } | undefined> {
    const onProgress = (ev: { message: string; percent?: number }) => progress(ev.message, ev.percent);
    if (ref.kind === 'file') {
      const clusters = this.services.clusters();
      const cluster = clusters.length === 1 ? clusters[0].name : undefined;
      const report = await verifyWithPassphrase(this.services, { source: { kind: 'file', path: ref.path }, cluster, signal, onProgress });
      return report && { report };
    }
    if (ref.kind !== 'backup') throw new Error('A comparison is not one backup.');
    const cluster = this.services.cluster(ref.cluster);
    const record = known ?? (await loadRecord(this.services, cluster, ref.id));
    const source = await verifySourceFor(this.services, cluster, record);
    const clusterVersion = this.services.statusCache.get(cluster.name)?.ucpVersion;
    const report = await verifyWithPassphrase(this.services, { source, cluster: cluster.name, clusterVersion, signal, onProgress });
    return report && { report, record };
  }

  /** The panel resolver (also used after a reload by the serializer). */
  source(ref: PanelRef): PanelSource {
    if (ref.kind === 'compare') {
      return {
        title: 'Compare backups',
        load: () => this.loadCompare(ref),
      };
    }
    const verify = async (progress: Progress): Promise<ReportView | undefined> => {
      const r = await this.verifyRef(ref, progress);
      return r && toReportView(r.report);
    };
    if (ref.kind === 'file') {
      return {
        title: basename(ref.path),
        load: async () => ({ kind: 'details', ref }),
        verify,
        revealFile: () => revealFile(ref.path),
      };
    }
    let record: BackupRecord | undefined;
    return {
      title: `Backup ${ref.id.slice(0, 8)}`,
      load: async () => {
        record = await loadRecord(this.services, this.services.cluster(ref.cluster), ref.id);
        return { kind: 'details', ref, record };
      },
      verify,
      // List the contents right away when no prompt is needed (not encrypted, or passphrase stored).
      autoVerify: async (content) => {
        const r = content.kind === 'details' ? content.record : undefined;
        if (r && localFileFacts(r).fileMissing) return false; // the panel says the file is gone
        return !!r && r.backupState === 'SUCCESS' && (!r.encrypted || !!(await this.services.passphrases.stored(ref.cluster)));
      },
      // The panel opened from the tree is given its record and never loads: read it then.
      revealFile: async () => {
        const r = record ?? (await loadRecord(this.services, this.services.cluster(ref.cluster), ref.id));
        if (r.location === 'local') await revealFile(`${r.backupPath}/${r.fileName}`);
        else void vscode.window.showInformationMessage(`${r.fileName} is on ${r.nodeLocation} in ${r.backupPath}: use Download Backup to bring it here.`);
      },
      showLog: async () => {
        const cluster = this.services.cluster(ref.cluster);
        await showBackupLog(this.services, cluster, record ?? (await loadRecord(this.services, cluster, ref.id)));
      },
    };
  }

  private async loadCompare(ref: Extract<PanelRef, { kind: 'compare' }>): Promise<PanelContent> {
    return vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: 'Comparing backups', cancellable: true }, async (progress, token) => {
      const abort = new AbortController();
      token.onCancellationRequested(() => abort.abort());
      const side = async (which: 'A' | 'B', r: PanelRef) => {
        const got = await this.verifyRef(r, (m) => progress.report({ message: `${which}: ${m}` }), abort.signal);
        if (!got) throw new CancelledError('Compare cancelled.');
        const label = got.record ? got.record.fileName : r.kind === 'file' ? basename(r.path) : '?';
        return { label, record: got.record, report: toReportView(got.report), raw: got.report };
      };
      const first = await side('A', ref.a);
      const second = await side('B', ref.b);
      const [a, b] = olderFirst(first, second);
      const diff = toDiffView(diffBackups(a.raw, b.raw));
      return { kind: 'compare', ref, a: { label: a.label, record: a.record, report: a.report }, b: { label: b.label, record: b.record, report: b.report }, diff };
    });
  }

  /** "UCP: Verify Backup": a .tar from the explorer, a backup in the tree, or a file picked. */
  async verifyCommand(arg?: vscode.Uri | UcpNode): Promise<VerifyReport | undefined> {
    let ref: PanelRef;
    let record: BackupRecord | undefined;
    if (arg instanceof vscode.Uri) ref = { kind: 'file', path: arg.fsPath };
    else if (arg && arg.kind === 'backup') {
      ref = { kind: 'backup', cluster: arg.cluster.name, id: arg.record.id };
      record = arg.record;
    } else {
      const picked = await vscode.window.showOpenDialog({ title: 'Verify a UCP backup', canSelectMany: false, filters: { 'UCP backup': ['tar'], 'All files': ['*'] }, openLabel: 'Verify' });
      if (!picked?.[0]) return undefined;
      ref = { kind: 'file', path: picked[0].fsPath };
    }
    const label = record ? labelOf(record) : ref.kind === 'file' ? ref.path : '';
    this.services.log.info(`Verifying ${label}`);
    let result: { report: VerifyReport; record?: BackupRecord } | undefined;
    try {
      result = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `Verifying ${basename(label)}`, cancellable: true }, (progress, token) => {
        const abort = new AbortController();
        token.onCancellationRequested(() => abort.abort());
        let last = 0;
        return this.verifyRef(ref, (message, percent) => {
          const increment = percent !== undefined && percent > last ? percent - last : undefined;
          if (percent !== undefined) last = Math.max(last, percent);
          progress.report({ message, increment });
        }, abort.signal, record);
      });
    } catch (err) {
      if (err instanceof CancelledError) return undefined;
      // Not a backup at all: an INVALID report that says what the file is (not a cut-off toast).
      const invalid = notABackupReport(label, err, ref.kind === 'file' ? statSync(ref.path, { throwIfNoEntry: false })?.size : undefined);
      if (invalid) result = { report: invalid, record };
      else {
        this.services.log.error(`Verify ${label}: ${describeError(err)}`);
        void vscode.window.showErrorMessage(`Cannot verify ${basename(label)}: ${describeError(err)}`);
        return undefined;
      }
    }
    if (!result) return undefined;
    const { report } = result;
    const failed = report.checks.filter((c) => !c.pass);
    this.services.log.info(`Verify ${label}: ${report.verdict} (${report.entryCount} entries${failed.length ? `; failed: ${failed.map((c) => c.id).join(', ')}` : ''})`);
    this.panels.show(ref, { kind: 'details', ref, record: result.record ?? record, report: toReportView(report) });
    if (report.verdict === 'VALID') void vscode.window.showInformationMessage(`${basename(label)} is VALID: ${report.entryCount} entries.`);
    else void vscode.window.showWarningMessage(`${basename(label)} is INVALID: ${failed.map((c) => `${c.title}: ${c.reason}`).join('; ')}`);
    return report;
  }

  /** "UCP: Show Backup Details" for a tree item, `{cluster, id}`, or a backup picked from the history. */
  async showDetails(arg?: UcpNode | { cluster: string; id: string }): Promise<void> {
    if (arg && 'kind' in arg && arg.kind === 'backup') {
      const ref: PanelRef = { kind: 'backup', cluster: arg.cluster.name, id: arg.record.id };
      this.panels.show(ref, { kind: 'details', ref, record: arg.record });
      return;
    }
    if (arg && !('kind' in arg)) {
      this.panels.show({ kind: 'backup', cluster: arg.cluster, id: arg.id });
      return;
    }
    const picked = await pickBackup(this.services, 'Show details of which backup?');
    if (picked) this.panels.show({ kind: 'backup', cluster: picked.cluster, id: picked.record.id }, { kind: 'details', ref: { kind: 'backup', cluster: picked.cluster, id: picked.record.id }, record: picked.record });
  }
}

/** A backup from the history of the configured clusters, newest first. */
export async function pickBackup(services: Services, title: string, filter: (r: BackupRecord) => boolean = () => true, exclude?: string): Promise<{ cluster: string; record: BackupRecord } | undefined> {
  const items = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: 'Reading backup history…' }, async () => {
    const out: (vscode.QuickPickItem & { cluster: string; record: BackupRecord })[] = [];
    for (const cluster of services.clusters()) {
      const docker = await services.anyManagerDocker(cluster).then((x) => x?.docker, () => undefined);
      for (const record of await listBackups(cluster, docker)) {
        if (!filter(record) || record.id === exclude) continue;
        out.push({ label: record.fileName || record.id, description: `${cluster.name} · ${record.backupState} · ${record.created_at}`, detail: labelOf(record), cluster: cluster.name, record });
      }
    }
    return out;
  });
  if (items.length === 0) {
    void vscode.window.showInformationMessage('No backups found. Run "UCP: Backup Now" first.');
    return undefined;
  }
  return vscode.window.showQuickPick(items, { title, matchOnDescription: true, matchOnDetail: true, ignoreFocusOut: true });
}

export const COPY_PATH = 'Copy Path';

/**
 * "Reveal File". A desktop opens the OS file manager; the browser (code-server, or a remote
 * window) has none, so the file is revealed in the Explorer when it is in the workspace, else
 * its path is offered for copying. A file that is gone says so instead of doing nothing.
 */
async function revealFile(path: string): Promise<void> {
  const uri = vscode.Uri.file(path);
  if (!existsSync(path)) {
    void vscode.window.showWarningMessage(`${path} is not there any more: it was moved or deleted.`);
    return;
  }
  if (vscode.env.uiKind === vscode.UIKind.Web || vscode.env.remoteName) {
    if (vscode.workspace.getWorkspaceFolder(uri)) {
      await vscode.commands.executeCommand('workbench.view.explorer');
      await vscode.commands.executeCommand('revealInExplorer', uri);
      return;
    }
    const pick = await vscode.window.showInformationMessage(`The backup is at ${path} (outside the open folder; the browser has no file manager).`, COPY_PATH);
    if (pick === COPY_PATH) {
      await vscode.env.clipboard.writeText(path);
      void vscode.window.showInformationMessage(`Copied ${path}.`);
    }
    return;
  }
  await vscode.commands.executeCommand('revealFileInOS', uri);
}

export { revealFile };
