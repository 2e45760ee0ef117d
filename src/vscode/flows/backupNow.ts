/**
 * "UCP: Backup Now": cluster → node → destination → passphrase → log → run with progress
 * and cancel → "Verify" / "Show Details" / "Reveal File". The prompt sequence is documented
 * for the e2e tests in src/vscode/README-e2e.md; keep both in step.
 */
import * as vscode from 'vscode';
import { homedir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { isApiCluster, type ClusterConfig, type NodeConfig } from '../../core/config';
import { CancelledError, describeError } from '../../core/errors';
import { BackupRunningError, StaleLockError } from '../../core/engine/errors';
import { runBackup, type BackupRequest } from '../../core/engine/runBackup';
import type { BackupRecord } from '../../core/history/record';
import type { StepName } from '../../core/progress';
import type { Services } from '../services';
import type { BackupTreeProvider, UcpNode } from '../tree/provider';
import { engineName } from '../tree/backupPresentation';
import { apiBackupNow, pickBackupWay } from './apiBackupNow';
import { defaultBackupName, stampAtStart } from './backupNames';
import { backupActivity } from '../statusBar';
import { pickCluster, pickManager } from './pick';
import { revealFile } from './details';

/** Non-interactive arguments (tests, keybindings). A passphrase is never taken from here. */
export interface BackupNowArgs {
  cluster: string;
  node?: string;
  destination?: BackupRequest['destination'];
  includeLogs?: boolean;
}

export const LOCAL_FILE = 'Local file…';
export const hostPathLabel = (node: string) => `Host path on ${node}`;
export const INCLUDE_LOGS = 'Include the backup log';
export const NO_LOGS = 'No log';
export const ACTION_VERIFY = 'Verify';
export const ACTION_DETAILS = 'Show Details';
export const ACTION_REVEAL = 'Reveal File';
export const ACTION_BREAK_LOCK = 'Break Stale Lock';

const STEP_TITLES: Record<StepName, string> = {
  validation: 'Validating',
  metadata: 'Reading UCP metadata',
  volumes: 'Backing up volumes',
  etcd: 'Backing up etcd',
  rethinkdb: 'Backing up the auth store (RethinkDB)',
  write: 'Writing the archive',
  download: 'Downloading',
  verify: 'Verifying',
};


function isArgs(a: unknown): a is BackupNowArgs {
  return !!a && typeof a === 'object' && typeof (a as BackupNowArgs).cluster === 'string';
}

async function pickDestination(services: Services, cluster: ClusterConfig, node: NodeConfig, fileName: string): Promise<BackupRequest['destination'] | undefined> {
  const choice = await vscode.window.showQuickPick(
    [
      { label: LOCAL_FILE, description: 'stream the archive to this machine', dest: 'local' as const },
      { label: hostPathLabel(node.name), description: `a folder on the node owned by nobody:nogroup (spec), e.g. ${services.defaultHostPath()}`, dest: 'host' as const },
    ],
    { title: 'Backup destination', ignoreFocusOut: true },
  );
  if (!choice) return undefined;
  if (choice.dest === 'local') {
    const uri = await vscode.window.showSaveDialog({
      title: 'Save the UCP backup as',
      defaultUri: vscode.Uri.file(join(vscode.workspace.workspaceFolders?.[0]?.uri.fsPath ?? homedir(), fileName)),
      filters: { 'UCP backup': ['tar'] },
      saveLabel: 'Back Up Here',
    });
    return uri ? { kind: 'local', path: uri.fsPath } : undefined;
  }
  const hostPath = await vscode.window.showInputBox({
    title: `Folder on ${node.name}`,
    prompt: 'Absolute path; it must be writable by nobody (sudo chown nobody:nogroup FOLDER, once).',
    value: services.defaultHostPath(),
    ignoreFocusOut: true,
    validateInput: (v) => (v.startsWith('/') ? undefined : 'Give an absolute path, e.g. /var/backups/ucp.'),
  });
  if (!hostPath) return undefined;
  const name = await vscode.window.showInputBox({
    title: 'Backup file name',
    prompt: 'Give each backup a different name: an existing file of the same name is not overwritten.',
    value: fileName,
    ignoreFocusOut: true,
    validateInput: (v) => (v && !v.includes('/') && !v.startsWith('.') ? undefined : 'A plain file name like backup1.tar.'),
  });
  return name ? { kind: 'host', hostPath, fileName: name } : undefined;
}

export async function backupNow(services: Services, tree: BackupTreeProvider, arg?: UcpNode | BackupNowArgs): Promise<BackupRecord | undefined> {
  const log = services.log;
  let cluster: ClusterConfig | undefined;
  let node: NodeConfig | undefined;
  let destination: BackupRequest['destination'] | undefined;
  let includeLogs: boolean | undefined;

  if (isArgs(arg)) {
    cluster = services.cluster(arg.cluster);
    node = arg.node ? services.node(cluster, arg.node) : undefined;
    destination = arg.destination;
    includeLogs = arg.includeLogs ?? false;
  } else if (arg && (arg.kind === 'node' || arg.kind === 'cluster' || arg.kind === 'backups')) {
    cluster = arg.cluster;
    if (arg.kind === 'node') node = arg.status.nodeConfig;
  }
  cluster ??= await pickCluster(services);
  if (!cluster) return undefined;
  // Reached through UCP's API: UCP runs the backup (a cluster with SSH nodes too asks which way).
  if (isApiCluster(cluster) && !node) {
    const way = cluster.nodes.length === 0 ? 'api' : await pickBackupWay(cluster);
    if (!way) return undefined;
    if (way === 'api') return apiBackupNow(services, tree, cluster);
  }
  if (!node) {
    const m = await pickManager(services, cluster);
    if (!m) return undefined;
    node = m.node;
  }
  const proposed = defaultBackupName(cluster.name, new Date());
  destination ??= await pickDestination(services, cluster, node, proposed);
  if (!destination) return undefined;

  const choice = await services.passphrases.forBackup(cluster.name);
  if (!choice) return undefined;

  if (includeLogs === undefined) {
    const logs = await vscode.window.showQuickPick([{ label: INCLUDE_LOGS, description: 'written beside the archive (.log)' }, { label: NO_LOGS }], {
      title: 'Backup log',
      ignoreFocusOut: true,
    });
    if (!logs) return undefined;
    includeLogs = logs.label === INCLUDE_LOGS;
  }

  // A kept default name is stamped now, and that is created_at too (the name's time = the record's).
  let createdAt: string | undefined;
  if (destination.kind === 'local') {
    const named = stampAtStart(basename(destination.path), proposed, cluster.name, new Date());
    destination = { kind: 'local', path: join(dirname(destination.path), named.fileName) };
    createdAt = named.createdAt;
  } else {
    const named = stampAtStart(destination.fileName, proposed, cluster.name, new Date());
    destination = { ...destination, fileName: named.fileName };
    createdAt = named.createdAt;
  }
  const request: BackupRequest = { destination, ...choice, includeLogs, engine: services.engine(), createdAt };
  const where = destination.kind === 'local' ? destination.path : `${node.name}:${destination.hostPath}/${destination.fileName}`;
  log.info(`Backup of ${cluster.name} from ${node.name} to ${where} (${choice.passphrase ? 'encrypted' : 'no passphrase'}, logs: ${includeLogs}).`);

  const c = cluster;
  const n = node;
  tree.backupStarted();
  let record: BackupRecord;
  try {
    record = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: `UCP backup of ${c.name}`, cancellable: true },
      async (progress, token) => {
        const abort = new AbortController();
        token.onCancellationRequested(() => abort.abort());
        let last = 0;
        progress.report({ message: `Connecting to ${n.name}…` });
        const docker = await services.docker(n);
        return services.running.track(abort, runBackup(request, {
          docker,
          cluster: c,
          node: n,
          signal: abort.signal,
          log: (line) => log.info(line),
          linkLostSince: (t) => services.pool.get(n).connectionLostSince(t),
          onProgress: (ev) => {
            const increment = ev.percent !== undefined && ev.percent > last ? ev.percent - last : undefined;
            if (ev.percent !== undefined) last = Math.max(last, ev.percent);
            progress.report({ message: `${STEP_TITLES[ev.step] ?? ev.step}: ${ev.message}`, increment });
            backupActivity.report(c.name, `${STEP_TITLES[ev.step] ?? ev.step}${ev.percent !== undefined ? ` ${Math.round(ev.percent)}%` : ''}`);
          },
        }));
      },
    );
  } catch (err) {
    if (err instanceof CancelledError || (err as Error)?.name === 'AbortError') {
      log.info('Backup cancelled by the user.');
      void vscode.window.showInformationMessage('UCP backup cancelled. No partial file was left behind.');
      return undefined;
    }
    log.error(`Backup failed: ${describeError(err)}`);
    // The core's hints name CLI commands; here the same action is a button.
    const stale = err instanceof StaleLockError;
    const text = err instanceof BackupRunningError ? `${err.message} ${stale ? 'Its lock looks stale: break it if no backup is really running.' : 'Wait for it to finish, then try again.'}` : describeError(err);
    const pick = await vscode.window.showErrorMessage(`UCP backup failed: ${text}`, ...(stale ? [ACTION_BREAK_LOCK] : []), 'Show Log');
    if (pick === ACTION_BREAK_LOCK) await vscode.commands.executeCommand('ucpBackup.breakLock', { kind: 'cluster', cluster: c } satisfies UcpNode);
    else if (pick) log.show(true);
    return undefined;
  } finally {
    backupActivity.done(c.name);
    tree.backupFinished();
  }

  log.info(`Backup ${record.id} ${record.backupState}: ${where}`);
  const actions = record.location === 'local' ? [ACTION_VERIFY, ACTION_DETAILS, ACTION_REVEAL] : [ACTION_VERIFY, ACTION_DETAILS];
  void vscode.window.showInformationMessage(`UCP backup ${record.fileName} completed on ${record.nodeLocation} (engine: ${engineName(record.engine)}).`, ...actions).then(async (action) => {
    const node: UcpNode = { kind: 'backup', cluster: c, record };
    if (action === ACTION_VERIFY) await vscode.commands.executeCommand('ucpBackup.verify', node);
    if (action === ACTION_DETAILS) await vscode.commands.executeCommand('ucpBackup.showDetails', node);
    if (action === ACTION_REVEAL && destination?.kind === 'local') {
      await revealFile(destination.path);
    }
  });
  return record;
}

export const localPathOf = (r: BackupRecord): string => join(r.backupPath, r.fileName);
export { basename, dirname };
