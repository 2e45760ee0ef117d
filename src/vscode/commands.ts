/**
 * Every command in package.json `contributes.commands`, registered in one place: "what can
 * the admin do?" has one answer. Each is a thin adapter over a flow in ./flows.
 */
import * as vscode from 'vscode';
import { COMMAND_IDS, type CommandId } from './commandIds';
import { backupNow } from './flows/backupNow';
import { restoreDrill } from './flows/drill';
import { addCluster, removeCluster } from './flows/clusters';
import type { BackupViews } from './flows/details';
import { clearFailedRecords, forgetBackup } from './flows/records';
import { applyRetention } from './flows/retention';
import { copyTo } from './flows/copy';
import { breakStaleLock, compare, download, forgetPassphrase, remove } from './flows/manage';
import { showError } from './log';
import type { Services } from './services';
import type { BackupTreeProvider, UcpNode } from './tree/provider';


export function registerCommands(services: Services, tree: BackupTreeProvider, views: BackupViews): vscode.Disposable[] {
  const handlers: Record<CommandId, (...args: any[]) => unknown> = {
    'ucpBackup.backupNow': (arg?: UcpNode) => backupNow(services, tree, arg),
    'ucpBackup.verify': (arg?: vscode.Uri | UcpNode) => views.verifyCommand(arg),
    'ucpBackup.drill': (arg?: vscode.Uri | UcpNode) => restoreDrill(services, tree, views, arg),
    'ucpBackup.showDetails': (arg?: UcpNode) => views.showDetails(arg),
    'ucpBackup.download': (arg?: UcpNode) => download(services, arg),
    'ucpBackup.delete': (arg?: UcpNode) => remove(services, tree, arg),
    'ucpBackup.compare': (arg?: UcpNode, selected?: UcpNode[]) => compare(services, views, arg, selected),
    'ucpBackup.addCluster': () => addCluster(services, tree),
    'ucpBackup.removeCluster': (arg?: UcpNode) => removeCluster(services, tree, arg),
    'ucpBackup.forgetPassphrase': (arg?: UcpNode) => forgetPassphrase(services, arg),
    'ucpBackup.breakLock': (arg?: UcpNode) => breakStaleLock(services, tree, arg),
    'ucpBackup.showLog': () => services.log.show(),
    'ucpBackup.refresh': (arg?: UcpNode) => (arg?.kind === 'backups' ? tree.refreshBackups() : tree.refresh()),
    'ucpBackup.forgetBackup': (arg?: UcpNode) => forgetBackup(services, tree, arg),
    'ucpBackup.clearFailed': (arg?: UcpNode) => clearFailedRecords(services, tree, arg),
    'ucpBackup.applyRetention': (arg?: UcpNode) => applyRetention(services, tree, arg),
    'ucpBackup.copyTo': (arg?: UcpNode) => copyTo(services, tree, arg),
  };
  return COMMAND_IDS.map((id) =>
    vscode.commands.registerCommand(id, async (...args: unknown[]) => {
      try {
        return await handlers[id](...args);
      } catch (err) {
        // Flows report their own errors; this catches what escaped (e.g. no manager reachable).
        await showError(services.log, commandTitle(id), err);
        return undefined;
      }
    }),
  );
}

function commandTitle(id: CommandId): string {
  const words = id.replace('ucpBackup.', '').replace(/([A-Z])/g, ' $1');
  return `UCP: ${words.charAt(0).toUpperCase()}${words.slice(1)}`;
}
