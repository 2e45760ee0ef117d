/**
 * "UCP: Backup Now" through UCP's own API (POST /api/ucp/backup): UCP runs the backup on one
 * of its managers and writes <hostPath>/<fileName> there, as the API requires. The same
 * prompts as an SSH backup (folder, file name, passphrase, log); progress by polling
 * GET /api/ucp/backup/{id} with backoff; the running backup shows in the tree and the status
 * bar. Cancel stops the waiting only: the API cannot cancel a backup, so it goes on in UCP.
 */
import * as vscode from 'vscode';
import { asSentence, WaitCancelledError } from '../../core/api/errors';
import { formatUcpTime } from '../../core/api/recordText';
import type { UcpBackupRecord } from '../../core/api/schema';
import type { ClusterConfig } from '../../core/config';
import { CancelledError } from '../../core/errors';
import { describeApiError } from '../api/apiErrors';
import type { Services } from '../services';
import type { BackupTreeProvider, UcpNode } from '../tree/provider';

export const VIA_API = 'Through the UCP API';
export const VIA_SSH = 'Over SSH';
export const ACTION_DETAILS = 'Show Details';
export const ACTION_VERIFY = 'Verify';
export const INCLUDE_LOGS = 'Include the backup log';
export const NO_LOGS = 'No log';
export const managersFolderTitle = (cluster: string) => `Folder on the managers of ${cluster}`;

/** Polling: every second while the state changes, backing off to 8 s while it does not. */
const POLL_MS = 1000;
const MAX_POLL_MS = 8000;

function stamp(): string {
  return new Date().toISOString().replace(/[:.]/g, '-').replace(/-\d{3}Z$/, 'Z');
}

/** A cluster with both ways asks which; undefined = cancelled. */
export async function pickBackupWay(cluster: ClusterConfig): Promise<'api' | 'ssh' | undefined> {
  const picked = await vscode.window.showQuickPick(
    [
      { label: VIA_API, description: `UCP runs it on a manager (${cluster.ucpUrl})`, way: 'api' as const },
      { label: VIA_SSH, description: "this extension's engine, over SSH to a manager", way: 'ssh' as const },
    ],
    { title: `Back up ${cluster.name} how?`, ignoreFocusOut: true },
  );
  return picked?.way;
}

export async function apiBackupNow(services: Services, tree: BackupTreeProvider, cluster: ClusterConfig): Promise<UcpBackupRecord | undefined> {
  const log = services.log;
  const hostPath = await vscode.window.showInputBox({
    title: managersFolderTitle(cluster.name),
    prompt: "Absolute path on the managers (UCP's API writes the backup on one of them); it must be owned by nobody:nogroup there.",
    value: services.defaultHostPath(),
    ignoreFocusOut: true,
    validateInput: (v) => (v.startsWith('/') ? undefined : 'Give an absolute path, e.g. /var/backups/ucp.'),
  });
  if (!hostPath) return undefined;
  const fileName = await vscode.window.showInputBox({
    title: 'Backup file name',
    prompt: 'Give each backup a different name.',
    value: `${cluster.name}-ucp-backup-${stamp()}.tar`,
    ignoreFocusOut: true,
    validateInput: (v) => (v && !v.includes('/') && !v.startsWith('.') ? undefined : 'A plain file name like backup1.tar.'),
  });
  if (!fileName) return undefined;
  const choice = await services.passphrases.forBackup(cluster.name);
  if (!choice) return undefined;
  const logs = await vscode.window.showQuickPick([{ label: INCLUDE_LOGS, description: 'UCP writes it beside the archive' }, { label: NO_LOGS }], { title: 'Backup log', ignoreFocusOut: true });
  if (!logs) return undefined;
  const includeLogs = logs.label === INCLUDE_LOGS;

  log.info(`API backup of ${cluster.name}: POST /api/ucp/backup ${hostPath}/${fileName} (${choice.passphrase ? 'encrypted' : 'no passphrase'}, logs: ${includeLogs}).`);
  const status = vscode.window.createStatusBarItem(vscode.StatusBarAlignment.Left, 50);
  let id: string | undefined;
  let record: UcpBackupRecord;
  tree.backupStarted();
  try {
    record = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `UCP backup of ${cluster.name} (UCP API)`, cancellable: true }, async (progress, token) => {
      const abort = new AbortController();
      token.onCancellationRequested(() => abort.abort());
      progress.report({ message: 'Asking UCP to start the backup…' });
      return services.api.use(cluster, async (client) => {
        id = await client.createBackup({ fileName, hostPath, includeLogs, ...(choice.passphrase ? { passphrase: choice.passphrase } : { noPassphrase: true }) }, { signal: abort.signal });
        log.info(`API backup of ${cluster.name}: UCP started backup ${id}.`);
        status.text = `$(sync~spin) UCP backup of ${cluster.name}`;
        status.tooltip = `UCP runs backup ${id} (${fileName}); polling GET /api/ucp/backup/{id}`;
        status.show();
        tree.refreshBackups();
        progress.report({ message: `UCP runs backup ${id}: in progress` });
        const done = await client.waitForBackupChecked(id, {
          signal: abort.signal,
          intervalMs: POLL_MS,
          maxIntervalMs: MAX_POLL_MS,
          onUpdate: (c) => progress.report({ message: `UCP runs backup ${c.record.id} on ${c.record.nodeLocation || 'a manager'}: ${c.record.backupState === 'IN_PROGRESS' ? 'in progress' : c.record.backupState}` }),
        });
        return done.record;
      });
    });
  } catch (err) {
    if (err instanceof WaitCancelledError) {
      log.info(`API backup of ${cluster.name}: ${err.message}`);
      void vscode.window.showInformationMessage(describeApiError(err));
    } else if (err instanceof CancelledError || (err as Error)?.name === 'AbortError') {
      log.info(`API backup of ${cluster.name}: cancelled before UCP answered.`);
      void vscode.window.showInformationMessage('Backup Now was cancelled before UCP answered; if UCP started the backup anyway, it shows in the Backups list.');
    } else {
      const text = describeApiError(err);
      log.error(`API backup of ${cluster.name} failed: ${text}`);
      void vscode.window.showErrorMessage(`UCP backup failed: ${text}`, 'Show Log').then((p) => p && log.show(true));
    }
    return undefined;
  } finally {
    status.dispose();
    tree.backupFinished();
  }

  log.info(`API backup ${record.id} ${record.backupState} on ${record.nodeLocation}: ${record.backupPath}/${record.fileName}, completed ${formatUcpTime(record.completed_at)}.`);
  const node: UcpNode = { kind: 'backup', cluster, record };
  if (record.backupState === 'FAILED') {
    const text = `UCP backup ${record.fileName} FAILED on ${record.nodeLocation || 'a manager'}: ${asSentence(record.shortError || 'UCP gave no reason')} ${record.logFileName ? `See its log ${record.backupPath}/${record.logFileName} there, or` : 'See'} the ucp-controller logs.`;
    void vscode.window.showErrorMessage(text, ACTION_DETAILS, 'Show Log').then(async (p) => {
      if (p === ACTION_DETAILS) await vscode.commands.executeCommand('ucpBackup.showDetails', node);
      else if (p) log.show(true);
    });
    return record;
  }
  const actions = cluster.nodes.length ? [ACTION_VERIFY, ACTION_DETAILS] : [ACTION_DETAILS];
  void vscode.window.showInformationMessage(`UCP backup ${record.fileName} completed on ${record.nodeLocation} (through the UCP API).`, ...actions).then(async (action) => {
    if (action === ACTION_VERIFY) await vscode.commands.executeCommand('ucpBackup.verify', node);
    if (action === ACTION_DETAILS) await vscode.commands.executeCommand('ucpBackup.showDetails', node);
  });
  return record;
}
