/**
 * "UCP: Restore Drill" on a backup row, a `.tar` in the Explorer, or a file picked: the
 * backup is read once on this machine (the passphrase never leaves it), its etcd snapshot
 * restored and served in throwaway containers on a manager from the image its ucp-kv runs
 * (core drill), with progress and cancel. The report opens in the details panel as verify's
 * does; the result is kept with the backup's record, so the tree shows it.
 */
import * as vscode from 'vscode';
import { basename } from 'node:path';
import type { ClusterConfig } from '../../core/config';
import { CancelledError, describeError } from '../../core/errors';
import { drill, type DrillOptions } from '../../core/drill/drill';
import type { DrillReport } from '../../core/drill/report';
import { listBackups } from '../../core/history/backupHistory';
import { drillSummary, findDrilledRecord, saveDrillResult } from '../../core/history/drillResult';
import type { BackupRecord } from '../../core/history/record';
import type { VerifySource } from '../../core/verify/verify';
import type { PanelRef, ReportView } from '../../shared/protocol';
import type { Services } from '../services';
import type { BackupTreeProvider, UcpNode } from '../tree/provider';
import { dockerOfNode, labelOf, verifySourceFor } from './backupAccess';
import type { BackupViews } from './details';

/** As many entries as the verify panel lists: the drill's one read fills the listing too. */
const LISTED_ENTRIES = 200_000;

export async function restoreDrill(services: Services, tree: BackupTreeProvider, views: BackupViews, arg?: vscode.Uri | UcpNode): Promise<DrillReport | undefined> {
  let ref: PanelRef;
  let record: BackupRecord | undefined;
  let cluster: ClusterConfig | undefined;
  if (arg instanceof vscode.Uri) ref = { kind: 'file', path: arg.fsPath };
  else if (arg && arg.kind === 'backup') {
    ref = { kind: 'backup', cluster: arg.cluster.name, id: arg.record.id };
    record = arg.record;
    cluster = arg.cluster;
  } else {
    const picked = await vscode.window.showOpenDialog({ title: 'Restore drill of a UCP backup', canSelectMany: false, filters: { 'UCP backup': ['tar'], 'All files': ['*'] }, openLabel: 'Drill' });
    if (!picked?.[0]) return undefined;
    ref = { kind: 'file', path: picked[0].fsPath };
  }
  cluster ??= await pickCluster(services);
  if (!cluster) {
    void vscode.window.showErrorMessage('A restore drill runs its etcd on a manager of a cluster: add one first (UCP: Add Cluster).');
    return undefined;
  }
  const label = record ? labelOf(record) : ref.kind === 'file' ? ref.path : '';
  services.log.info(`Restore drill of ${label} on cluster ${cluster.name}`);
  let report: DrillReport | undefined;
  try {
    report = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `Restore drill of ${basename(label)}`, cancellable: true }, async (progress, token) => {
      const abort = new AbortController();
      token.onCancellationRequested(() => abort.abort());
      const source: VerifySource = record ? await verifySourceFor(services, cluster, record) : { kind: 'file', path: (ref as { path: string }).path };
      // Tracked with the window's runs: closing the window cancels it, so its containers go too.
      return services.running.track(abort, drillWithPassphrase(services, source, label, cluster, record, {
        signal: abort.signal,
        onProgress: (ev) => progress.report({ message: ev.message }),
        log: (line) => services.log.info(line),
      }));
    });
  } catch (err) {
    if (err instanceof CancelledError) {
      services.log.info(`Restore drill of ${label}: cancelled; its containers and temp files were removed`);
      return undefined;
    }
    services.log.error(`Restore drill of ${label}: ${describeError(err)}`);
    void vscode.window.showErrorMessage(`Cannot drill ${basename(label)}: ${describeError(err)}`);
    return undefined;
  }
  if (!report) return undefined;
  const failed = report.checks.filter((c) => c.status !== 'PASS');
  services.log.info(`Restore drill of ${label}: ${report.verdict}${failed.length ? ` (${failed.map((c) => `${c.status} ${c.title}`).join('; ')})` : ''}`);
  record = await keepResult(services, cluster, report, ref, record);
  if (record) tree.refreshBackups();
  views.panels.show(ref, { kind: 'details', ref, record, report: toDrillView(report) });
  const text = `Restore drill of ${basename(label)}: ${report.verdict}`;
  if (report.verdict === 'PASS') void vscode.window.showInformationMessage(`${text}: the snapshot restored (revision ${report.etcd?.revision}, ${report.etcd?.keys} keys) and every check passed.`);
  else void vscode.window.showWarningMessage(`${text}: ${failed.map((c) => `${c.title}: ${c.reason}`).join('; ')}`);
  return report;
}

/** The stored passphrase first, then asked; a wrong one is asked again (twice at most). Undefined: the admin cancelled. */
async function drillWithPassphrase(services: Services, source: VerifySource, label: string, cluster: ClusterConfig, record: BackupRecord | undefined, options: Omit<DrillOptions, 'passphrase'>): Promise<DrillReport | undefined> {
  for (let attempt = 0; attempt < 3; attempt++) {
    let cancelled = false;
    const report = await drill(source, {
      ...options,
      passphrase: async () => {
        const p = await services.passphrases.forDecrypt(basename(label), cluster.name, attempt > 0);
        if (p === undefined) cancelled = true;
        return p;
      },
      manager: async () => {
        // The node that holds a host-path backup also runs its drill; else any manager with UCP.
        if (record?.location === 'host') return { docker: await dockerOfNode(services, cluster, record.nodeLocation), name: record.nodeLocation };
        const m = await services.requireManagerDocker(cluster);
        return { docker: m.docker, name: m.manager.name };
      },
      maxEntriesInReport: LISTED_ENTRIES,
    });
    if (cancelled) return undefined;
    if (!report.wrongPassphrase || attempt === 2) return report;
  }
  return undefined;
}

async function pickCluster(services: Services): Promise<ClusterConfig | undefined> {
  const clusters = services.clusters().filter((c) => c.nodes.length > 0);
  if (clusters.length <= 1) return clusters[0];
  const pick = await vscode.window.showQuickPick(clusters.map((c) => ({ label: c.name, description: c.nodes.map((n) => n.name).join(', '), cluster: c })), { title: 'Run the drill\'s etcd on a manager of which cluster?', ignoreFocusOut: true });
  return pick?.cluster;
}

/** The drill's result into the backup's record: the row's own, or the record whose local file this is. */
async function keepResult(services: Services, cluster: ClusterConfig, report: DrillReport, ref: PanelRef, record: BackupRecord | undefined): Promise<BackupRecord | undefined> {
  try {
    const docker = await services.anyManagerDocker(cluster).then((x) => x?.docker, () => undefined);
    const target = record ?? (ref.kind === 'file' ? findDrilledRecord(await listBackups(cluster, docker), { kind: 'local', path: ref.path }) : undefined);
    if (!target) return record;
    return await saveDrillResult(target, drillSummary(report), docker);
  } catch (err) {
    services.log.error(`The restore drill's result could not be kept with its backup record: ${describeError(err)}`);
    return record;
  }
}

/** The drill report in the verify panel's shape: its check table, with WARN as a third state. */
export function toDrillView(r: DrillReport): ReportView {
  return {
    verdict: r.verdict,
    title: 'Restore drill',
    source: r.source,
    encrypted: r.verify?.encrypted ?? false,
    entryCount: r.verify?.entryCount ?? 0,
    checks: r.checks.map((c) => ({ id: c.id, title: c.title, pass: c.pass, reason: c.reason, status: c.status })),
    entries: r.entries ?? [],
    ucpVersion: r.ucpVersion,
    truncated: r.entries !== undefined && r.verify !== undefined && r.entries.length < r.verify.entryCount,
  };
}
