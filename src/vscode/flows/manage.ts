/** Download, Delete, Compare, Break Stale Lock and Forget Passphrase: one function per command. */
import * as vscode from 'vscode';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { CancelledError } from '../../core/errors';
import type { BackupRecord } from '../../core/history/record';
import { readLock } from '../../core/lock/clusterLock';
import { deleteBackup, downloadBackup } from '../coreAdapters';
import { breakStale, planLockBreak } from '../lockBreak';
import { showError } from '../log';
import type { PanelRef } from '../../shared/protocol';
import type { Services } from '../services';
import type { BackupTreeProvider, UcpNode } from '../tree/provider';
import { dockerOfNode, labelOf } from './backupAccess';
import { pickBackup, type BackupViews } from './details';
import { pickCluster } from './pick';

export const DELETE_BUTTON = 'Delete';
export const BREAK_LOCK_BUTTON = 'Break Lock';

type BackupNode = Extract<UcpNode, { kind: 'backup' }>;
const isBackup = (n: unknown): n is BackupNode => !!n && typeof n === 'object' && (n as UcpNode).kind === 'backup';

async function backupArg(services: Services, arg: unknown, title: string, filter?: (r: BackupRecord) => boolean): Promise<{ cluster: string; record: BackupRecord } | undefined> {
  if (isBackup(arg)) return { cluster: arg.cluster.name, record: arg.record };
  return pickBackup(services, title, filter);
}

export async function download(services: Services, arg?: unknown): Promise<void> {
  const picked = await backupArg(services, arg, 'Download which backup?', (r) => r.backupState === 'SUCCESS' && r.location !== 'local');
  if (!picked) return;
  const { record } = picked;
  const cluster = services.cluster(picked.cluster);
  const target = await vscode.window.showSaveDialog({
    title: `Download ${record.fileName}`,
    defaultUri: vscode.Uri.file(join(vscode.workspace.workspaceFolders?.[0]?.uri.fsPath ?? homedir(), record.fileName)),
    filters: { 'UCP backup': ['tar'] },
    saveLabel: 'Download',
  });
  if (!target) return;
  try {
    await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `Downloading ${record.fileName}`, cancellable: true }, async (progress, token) => {
      const abort = new AbortController();
      token.onCancellationRequested(() => abort.abort());
      const docker = await dockerOfNode(services, cluster, record.nodeLocation);
      let last = 0;
      await downloadBackup(docker, record, target.fsPath, {
        signal: abort.signal,
        onProgress: (ev) => {
          const increment = ev.percent !== undefined ? ev.percent - last : undefined;
          if (ev.percent !== undefined) last = ev.percent;
          progress.report({ message: ev.message, increment });
        },
      });
    });
  } catch (err) {
    if (err instanceof CancelledError || (err as Error)?.name === 'AbortError') return;
    await showError(services.log, `Download of ${record.fileName} failed`, err);
    return;
  }
  services.log.info(`Downloaded ${labelOf(record)} to ${target.fsPath}`);
  const verify = await vscode.window.showInformationMessage(`Downloaded ${record.fileName} to ${target.fsPath}.`, 'Verify');
  if (verify) await vscode.commands.executeCommand('ucpBackup.verify', target);
}

export async function remove(services: Services, tree: BackupTreeProvider, arg?: unknown): Promise<void> {
  const picked = await backupArg(services, arg, 'Delete which backup?', (r) => r.backupState !== 'IN_PROGRESS');
  if (!picked) return;
  const { record } = picked;
  if (record.backupState === 'IN_PROGRESS') {
    void vscode.window.showWarningMessage(`${record.fileName} is still in progress; cancel it or wait before deleting it.`);
    return;
  }
  const files = [record.fileName, record.logFileName].filter(Boolean).join(' and ');
  const answer = await vscode.window.showWarningMessage(
    `Delete backup ${record.fileName || record.id}?`,
    { modal: true, detail: `This removes ${files ? `${files} from ${record.location === 'local' ? record.backupPath : `${record.nodeLocation}:${record.backupPath}`} and ` : ''}its record. It cannot be undone.` },
    DELETE_BUTTON,
  );
  if (answer !== DELETE_BUTTON) return;
  try {
    const cluster = services.cluster(picked.cluster);
    const docker = record.location === 'local' ? (await services.anyManagerDocker(cluster).catch(() => undefined))?.docker : await dockerOfNode(services, cluster, record.nodeLocation);
    await deleteBackup(docker, record);
    services.log.info(`Deleted backup ${record.id} (${labelOf(record)})`);
    void vscode.window.showInformationMessage(`Deleted ${record.fileName || record.id}.`);
  } catch (err) {
    await showError(services.log, `Delete of ${record.fileName} failed`, err);
  } finally {
    tree.refreshBackups();
  }
}

/** Two tree selections, one selection + a pick, or two picks. */
export async function compare(services: Services, views: BackupViews, arg?: unknown, selected?: unknown[]): Promise<void> {
  const chosen = (selected ?? []).filter(isBackup);
  if (chosen.length < 2 && isBackup(arg)) chosen.splice(0, chosen.length, arg);
  const refs: PanelRef[] = chosen.slice(0, 2).map((n) => ({ kind: 'backup', cluster: n.cluster.name, id: n.record.id }));
  while (refs.length < 2) {
    const exclude = refs[0]?.kind === 'backup' ? refs[0].id : undefined;
    const p = await pickBackup(services, refs.length === 0 ? 'Compare: first (older) backup' : 'Compare with which backup?', (r) => r.backupState === 'SUCCESS', exclude);
    if (!p) return;
    refs.push({ kind: 'backup', cluster: p.cluster, id: p.record.id });
  }
  views.panels.show({ kind: 'compare', a: refs[0], b: refs[1] });
}

export async function breakStaleLock(services: Services, tree: BackupTreeProvider, arg?: UcpNode): Promise<void> {
  const cluster = arg && 'cluster' in arg ? arg.cluster : await pickCluster(services);
  if (!cluster) return;
  try {
    const { docker } = await services.requireManagerDocker(cluster);
    const plan = planLockBreak(cluster.name, await readLock(docker));
    if (plan.kind === 'free') {
      void vscode.window.showInformationMessage(plan.message);
      return;
    }
    if (plan.kind === 'live') {
      services.log.info(plan.message);
      void vscode.window.showWarningMessage(plan.message);
      return;
    }
    const answer = await vscode.window.showWarningMessage(plan.question, { modal: true, detail: plan.detail }, BREAK_LOCK_BUTTON);
    if (answer !== BREAK_LOCK_BUTTON) return;
    const removed = await breakStale(docker);
    services.log.warn(`Stale backup lock of ${cluster.name} broken by the user: ${removed ? removed.backupId : 'it was already gone'}`);
    void vscode.window.showInformationMessage(removed ? `Lock of backup ${removed.backupId} removed.` : 'The lock was already gone.');
  } catch (err) {
    await showError(services.log, 'Break lock failed', err);
  } finally {
    tree.refreshBackups();
  }
}

export async function forgetPassphrase(services: Services, arg?: UcpNode): Promise<void> {
  const cluster = arg && 'cluster' in arg ? arg.cluster : await pickCluster(services);
  if (!cluster) return;
  const had = await services.passphrases.forget(cluster.name);
  services.log.info(had ? `Forgot the stored backup passphrase of ${cluster.name}.` : `No backup passphrase was stored for ${cluster.name}.`);
  void vscode.window.showInformationMessage(had ? `Forgot the backup passphrase of ${cluster.name}.` : `No passphrase was stored for ${cluster.name}.`);
}
