/**
 * "UCP: Apply Retention…": the cluster's retention policy (restic's semantics, the same core
 * as `ucp-backup prune`), previewed in full before anything goes: every backup in scope with
 * what happens to it and why, in an editor tab; then one modal confirm naming the count. The
 * newest successful, verified backup is never removed (src/core/retention/plan.ts). The policy
 * typed is kept as the cluster's `retention` setting, so the next run and the CLI use it.
 */
import * as vscode from 'vscode';
import type { ClusterConfig } from '../../core/config';
import { CancelledError, describeError } from '../../core/errors';
import { listBackups } from '../../core/history/backupHistory';
import type { BackupRecord } from '../../core/history/record';
import { LocalHistory } from '../../core/history/localHistory';
import { executePrune } from '../../core/history/retention';
import { describePlan, parsePolicyText, planRetention, policyText, type RetentionPolicy } from '../../core/retention';
import { showError } from '../log';
import type { Services } from '../services';
import type { BackupTreeProvider, UcpNode } from '../tree/provider';
import { dockerOfNode } from './backupAccess';
import { pickCluster } from './pick';

export const DEFAULT_POLICY_TEXT = 'daily=7 weekly=4 monthly=6';
export const REMOVE_BUTTON = 'Remove';

function validate(text: string): string | undefined {
  try {
    parsePolicyText(text);
    return undefined;
  } catch (err) {
    return describeError(err);
  }
}

async function askPolicy(cluster: ClusterConfig): Promise<RetentionPolicy | undefined> {
  const text = await vscode.window.showInputBox({
    title: `Apply Retention to ${cluster.name}`,
    prompt: 'What to keep: the newest backup of each of the N newest days, weeks, months (last=N: the N newest). The newest verified backup always stays.',
    value: cluster.retention ? policyText(cluster.retention) : DEFAULT_POLICY_TEXT,
    validateInput: validate,
    ignoreFocusOut: true,
  });
  return text === undefined ? undefined : parsePolicyText(text);
}

/** Keeps the policy in the setting (only a setting cluster: a clusters file is the admin's to edit). */
async function rememberPolicy(services: Services, cluster: ClusterConfig, policy: RetentionPolicy): Promise<void> {
  const clusters = services.settingClusters();
  const i = clusters.findIndex((c) => c.name === cluster.name);
  if (i < 0 || policyText(clusters[i].retention ?? {}) === policyText(policy)) return;
  clusters[i] = { ...clusters[i], retention: { ...policy } };
  await services.saveClusters(clusters);
  services.log.info(`Retention policy of ${cluster.name} set to ${policyText(policy)}.`);
}

/** Where a record's files are: NODE:DIR for a host path, the folder for a local file (planRetention's `destination`). */
export function placeOf(r: BackupRecord): string {
  return r.location === 'host' ? `${r.nodeLocation}:${r.backupPath}` : r.backupPath;
}

/**
 * Retention is per destination as well as cluster-wide (a nightly host path and a weekly
 * local copy keep different counts): with more than one place in the history, ask which.
 */
async function askScope(cluster: ClusterConfig, records: readonly BackupRecord[]): Promise<{ destination?: string } | undefined> {
  const counts = new Map<string, number>();
  for (const r of records) if (r.backupState === 'SUCCESS') counts.set(placeOf(r), (counts.get(placeOf(r)) ?? 0) + 1);
  if (counts.size < 2) return {};
  const items: (vscode.QuickPickItem & { destination?: string })[] = [
    { label: `All backups of ${cluster.name}`, description: `${records.length} record(s) in ${counts.size} places` },
    ...[...counts].sort((a, b) => b[1] - a[1]).map(([place, n]) => ({ label: place, description: `${n} successful backup(s)`, destination: place })),
  ];
  const picked = await vscode.window.showQuickPick(items, { title: 'Apply retention to which backups?', placeHolder: 'The policy counts the backups of the place you pick; the others are not touched.', ignoreFocusOut: true });
  return picked && { destination: picked.destination };
}

export async function applyRetention(services: Services, tree: BackupTreeProvider, arg?: UcpNode): Promise<void> {
  const cluster = arg && 'cluster' in arg ? arg.cluster : await pickCluster(services);
  if (!cluster) return;
  const policy = await askPolicy(cluster);
  if (!policy) return;
  try {
    const { docker } = await services.requireManagerDocker(cluster);
    const local = new LocalHistory();
    const mine = new Set((await local.list(cluster.name)).map((r) => r.id));
    const records = await listBackups(cluster, docker, local);
    const scope = await askScope(cluster, records);
    if (!scope) return;
    const plan = planRetention(records, { policy, mine, destination: scope.destination });
    const preview = await vscode.workspace.openTextDocument({ content: `Retention for cluster ${cluster.name}${scope.destination ? `, backups in ${scope.destination}` : ''}\n${describePlan(plan)}`, language: 'plaintext' });
    await vscode.window.showTextDocument(preview, { preview: true });
    if (!plan.remove.length) {
      await rememberPolicy(services, cluster, policy);
      void vscode.window.showInformationMessage(`Nothing to remove from ${cluster.name}: all ${plan.keep.length} backup(s) are kept by ${policyText(policy)}.`);
      return;
    }
    const files = plan.remove.reduce((n, p) => n + p.files.length, 0);
    const answer = await vscode.window.showWarningMessage(
      `Remove ${plan.remove.length} backup record${plan.remove.length === 1 ? '' : 's'} of ${cluster.name}?`,
      { modal: true, detail: `${files} file(s) are deleted with them (archives and logs); ${plan.kept.length + plan.running.length} stay. The preview lists each one and why. It cannot be undone.` },
      REMOVE_BUTTON,
    );
    if (answer !== REMOVE_BUTTON) return;
    await rememberPolicy(services, cluster, policy);
    const results = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `Applying retention to ${cluster.name}`, cancellable: false }, async (progress) => {
      progress.report({ message: `removing ${plan.remove.length} backup(s)` });
      return executePrune(plan, { docker, dockerForNode: (node) => dockerOfNode(services, cluster, node), local });
    });
    const failed = results.filter((r) => r.error);
    for (const r of results) services.log.info(`Retention ${r.error ? 'could not remove' : 'removed'} ${r.record.id} (${r.record.fileName})${r.error ? `: ${r.error}` : ''}`);
    if (failed.length) void vscode.window.showWarningMessage(`Removed ${results.length - failed.length} of ${results.length} backup(s) of ${cluster.name}; ${failed.length} could not be removed: ${failed[0].error}`, 'Show Log').then((a) => a && services.log.show());
    else void vscode.window.showInformationMessage(`Removed ${results.length} backup(s) of ${cluster.name}; ${plan.kept.length + plan.running.length} kept.`);
  } catch (err) {
    if (err instanceof CancelledError) return;
    await showError(services.log, `Cannot apply retention to ${cluster.name}`, err);
  } finally {
    tree.refreshBackups();
  }
}
