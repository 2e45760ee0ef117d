/**
 * "UCP: Add Cluster" for clusters reached through UCP's API instead of SSH: by URL and login,
 * or by a client bundle (its zip or its folder). The CA is offered for consent and pinned
 * before the password is sent; the connection is tested (login + GET /api/ucp/backups) before
 * saving. The password / the bundle's key go to SecretStorage, never to the settings.
 */
import * as vscode from 'vscode';
import { readClientBundle, type ClientBundleFiles } from '../../core/api/clientBundle';
import { CaNotTrustedError } from '../../core/api/tlsErrors';
import type { ClusterConfig } from '../../core/config';
import { describeApiError, isRejectedLogin } from '../api/apiErrors';
import { showError } from '../log';
import type { Services } from '../services';
import type { BackupTreeProvider } from '../tree/provider';

export const ACCESS_SSH = 'SSH to a manager node';
export const ACCESS_LOGIN = 'UCP URL and login';
export const ACCESS_BUNDLE = 'Client bundle (zip or folder)';
export const BUNDLE_ZIP = 'Bundle zip file…';
export const BUNDLE_FOLDER = 'Unzipped bundle folder…';
export const SAVE_ANYWAY = 'Save Anyway';

export type ClusterAccess = 'ssh' | 'login' | 'bundle';

/** How VS Code reaches the new cluster; undefined = cancelled. */
export async function pickClusterAccess(name: string): Promise<ClusterAccess | undefined> {
  const picked = await vscode.window.showQuickPick(
    [
      { label: ACCESS_SSH, description: 'this extension backs up over SSH to the Docker socket', access: 'ssh' as const },
      { label: ACCESS_LOGIN, description: "UCP's backup API with a UCP administrator's user and password", access: 'login' as const },
      { label: ACCESS_BUNDLE, description: "UCP's backup API with a UCP administrator's client bundle", access: 'bundle' as const },
    ],
    { title: `How is ${name} reached?`, ignoreFocusOut: true },
  );
  return picked?.access;
}

/** "https://host[:port]" as typed (a path or a trailing slash dropped); undefined when it is not one. */
export function parseUcpUrl(text: string): string | undefined {
  let url: URL;
  try {
    url = new URL(text.trim().includes('://') ? text.trim() : `https://${text.trim()}`);
  } catch {
    return undefined;
  }
  return url.protocol === 'https:' && url.hostname ? url.origin : undefined;
}

const input = (title: string, prompt: string, value = '', validate?: (v: string) => string | undefined, password = false) =>
  vscode.window.showInputBox({ title, prompt, value, password, ignoreFocusOut: true, validateInput: validate });

async function askBundle(title: string): Promise<{ path: string; files: ClientBundleFiles } | undefined> {
  const kind = await vscode.window.showQuickPick([{ label: BUNDLE_ZIP, description: 'ucp-bundle-<user>.zip as UCP downloads it' }, { label: BUNDLE_FOLDER, description: 'with ca.pem, cert.pem and key.pem' }], { title, ignoreFocusOut: true });
  if (!kind) return undefined;
  const folder = kind.label === BUNDLE_FOLDER;
  const start = vscode.workspace.workspaceFolders?.[0]?.uri;
  const picked = await vscode.window.showOpenDialog({ title: 'UCP client bundle', defaultUri: start, canSelectFiles: !folder, canSelectFolders: folder, canSelectMany: false, openLabel: 'Use this bundle', filters: folder ? undefined : { 'Client bundle': ['zip'] } });
  const path = picked?.[0]?.fsPath;
  if (!path) return undefined;
  return { path, files: await readClientBundle(path) };
}

export async function addApiCluster(services: Services, tree: BackupTreeProvider, name: string, access: 'login' | 'bundle'): Promise<ClusterConfig | undefined> {
  const title = `Add ${name}: UCP API`;
  const typed = await input(`Add ${name}: UCP URL`, "UCP's address: https://<ucp-host>[:port], as in the browser", 'https://', (v) => (parseUcpUrl(v) ? undefined : 'Give https://<ucp-host>[:port].'));
  const ucpUrl = typed === undefined ? undefined : parseUcpUrl(typed);
  if (!ucpUrl) return undefined;
  const cluster: ClusterConfig = { name, nodes: [], ucpUrl, ucpAuth: access };
  let password: string | undefined;
  let bundle: ClientBundleFiles | undefined;
  if (access === 'login') {
    const username = await input(`Add ${name}: UCP user`, 'UCP user name (a UCP administrator)', 'admin', (v) => (v.trim() ? undefined : 'Required.'));
    if (!username) return undefined;
    cluster.ucpUsername = username.trim();
    password = await input(`UCP password of ${cluster.ucpUsername}`, "Kept in VS Code's secret storage.", '', (v) => (v ? undefined : 'Required.'), true);
    if (!password) return undefined;
  } else {
    try {
      bundle = (await askBundle(`${title}: client bundle`))?.files;
    } catch (err) {
      await showError(services.log, 'Cannot use the client bundle', err);
      return undefined;
    }
    if (!bundle) return undefined;
  }

  // Test before saving: trust (the CA consent), login, list. Nothing is stored before consent.
  const host = new URL(ucpUrl).host;
  let verdict: string;
  let ok = false;
  try {
    const client = await services.api.create(cluster, { password, bundle });
    const listed = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `Testing the UCP API at ${host}…` }, () => client.listBackupsChecked());
    ok = true;
    verdict = `the UCP API at ${host} answers (${listed.length} backup${listed.length === 1 ? '' : 's'} listed)`;
  } catch (err) {
    if (err instanceof CaNotTrustedError) {
      services.log.info(`Add cluster ${name}: the CA of ${host} was not trusted; nothing saved.`);
      void vscode.window.showInformationMessage(`Cluster ${name} was not added: UCP's CA at ${host} was not trusted.`);
      return undefined;
    }
    // Nothing is stored yet, so a refused login only needs checking what was typed.
    verdict = isRejectedLogin(err) ? `${(err as Error).message} Check the user name and the password.` : describeApiError(err);
  }
  services.log.info(`Add cluster ${name}: connection test: ${verdict}`);
  if (!ok) {
    const again = await vscode.window.showWarningMessage(`The connection test failed: ${verdict}`, { modal: true, detail: 'Save the cluster anyway and fix it later?' }, SAVE_ANYWAY);
    if (again !== SAVE_ANYWAY) return undefined;
  }
  try {
    if (password !== undefined) await services.api.secrets.rememberPassword(name, password);
    if (bundle) await services.api.secrets.rememberBundle(name, bundle);
    await services.saveClusters([...services.settingClusters(), cluster]);
  } catch (err) {
    await showError(services.log, 'Cannot save the cluster', err);
    return undefined;
  }
  services.api.drop(name);
  tree.refresh();
  if (ok) void vscode.window.showInformationMessage(`Cluster ${name} added: ${verdict}.`);
  return cluster;
}
