/**
 * "UCP: Copy Backup To…" on a successful backup: to an SFTP server, an S3 bucket or a folder
 * (an NFS mount), with the core of `ucp-backup copy`: written under a temp name, read back and
 * its SHA-256 checked against the record, then listed in the record's copies. The place is
 * typed once and offered again (globalState: no secret in it); S3 keys come from the
 * environment or are asked once and kept in SecretStorage; SFTP host keys are asked about as
 * for the managers (consent, pinned in known_hosts, a changed key refused).
 */
import * as vscode from 'vscode';
import { copyBackup } from '../../core/copy/copyBackup';
import { parseCopyDestination, type CopyDestination } from '../../core/copy/destination';
import { CancelledError, describeError } from '../../core/errors';
import type { BackupRecord } from '../../core/history/record';
import { showError } from '../log';
import type { Services } from '../services';
import type { BackupTreeProvider, UcpNode } from '../tree/provider';
import { dockerOfNode, labelOf } from './backupAccess';
import { pickBackup } from './details';

const RECENT_KEY = 'ucpBackup.copyDestinations';
const ENDPOINT_KEY = 'ucpBackup.s3Endpoints';
export const NEW_PLACE = 'Another place…';
const s3SecretKey = (endpoint: string, bucket: string) => `ucpBackup.s3Credentials.${endpoint || 'aws'}|${bucket}`;

function check(text: string): string | undefined {
  try {
    parseCopyDestination(text.trim());
    return text.trim() ? undefined : 'Give sftp://user@host[:port]/dir/, s3://bucket/prefix/ or a folder.';
  } catch (err) {
    return describeError(err);
  }
}

async function askDestination(services: Services, record: BackupRecord): Promise<CopyDestination | undefined> {
  const recent = services.context.globalState.get<string[]>(RECENT_KEY) ?? [];
  let text: string | undefined;
  if (recent.length) {
    const picked = await vscode.window.showQuickPick([...recent.map((label) => ({ label })), { label: NEW_PLACE, description: 'sftp://, s3:// or a folder' }], { title: `Copy ${record.fileName} to`, ignoreFocusOut: true });
    if (!picked) return undefined;
    if (picked.label !== NEW_PLACE) text = picked.label;
  }
  text ??= await vscode.window.showInputBox({
    title: `Copy ${record.fileName} to`,
    prompt: 'An SFTP server (keys, agent and ~/.ssh/config as for the managers), an S3 bucket, or a folder on this machine (e.g. an NFS mount).',
    placeHolder: 'sftp://backup@vault.example.com/srv/ucp/  ·  s3://bucket/prefix/  ·  /mnt/nfs/ucp',
    validateInput: check,
    ignoreFocusOut: true,
  });
  if (!text?.trim()) return undefined;
  const dest = parseCopyDestination(text.trim());
  await services.context.globalState.update(RECENT_KEY, [dest.url, ...recent.filter((r) => r !== dest.url)].slice(0, 8));
  return dest;
}

/** The S3 endpoint (empty: AWS) and keys: the environment's, or asked once and kept in SecretStorage. */
async function s3Access(services: Services, dest: Extract<CopyDestination, { kind: 's3' }>): Promise<{ endpoint?: string; credentials?: { accessKeyId: string; secretAccessKey: string } } | undefined> {
  const endpoints = services.context.globalState.get<Record<string, string>>(ENDPOINT_KEY) ?? {};
  const endpoint = await vscode.window.showInputBox({
    title: `S3 endpoint for ${dest.bucket}`,
    prompt: 'The S3 API of a store other than AWS (e.g. https://s3.example.com); leave empty for AWS.',
    value: endpoints[dest.bucket] ?? '',
    validateInput: (v) => (!v.trim() || /^https?:\/\/[^\s/]+/.test(v.trim()) ? undefined : 'Give http(s)://host[:port], or leave it empty for AWS.'),
    ignoreFocusOut: true,
  });
  if (endpoint === undefined) return undefined;
  await services.context.globalState.update(ENDPOINT_KEY, { ...endpoints, [dest.bucket]: endpoint.trim() });
  if (process.env.AWS_ACCESS_KEY_ID || process.env.AWS_PROFILE) return { endpoint: endpoint.trim() || undefined };
  const key = s3SecretKey(endpoint.trim(), dest.bucket);
  const stored = await services.context.secrets.get(key);
  if (stored) return { endpoint: endpoint.trim() || undefined, credentials: JSON.parse(stored) as { accessKeyId: string; secretAccessKey: string } };
  const accessKeyId = await vscode.window.showInputBox({ title: `S3 access key for ${dest.bucket}`, prompt: 'Kept in VS Code\'s secret storage with its secret.', ignoreFocusOut: true, validateInput: (v) => (v.trim() ? undefined : 'Give the access key ID.') });
  if (!accessKeyId) return undefined;
  const secretAccessKey = await vscode.window.showInputBox({ title: `S3 secret key for ${dest.bucket}`, password: true, ignoreFocusOut: true, validateInput: (v) => (v ? undefined : 'Give the secret access key.') });
  if (!secretAccessKey) return undefined;
  const credentials = { accessKeyId: accessKeyId.trim(), secretAccessKey };
  await services.context.secrets.store(key, JSON.stringify(credentials));
  return { endpoint: endpoint.trim() || undefined, credentials };
}

export async function copyTo(services: Services, tree: BackupTreeProvider, arg?: UcpNode): Promise<void> {
  const picked = arg?.kind === 'backup' ? { cluster: arg.cluster.name, record: arg.record } : await pickBackup(services, 'Copy which backup?', (r) => r.backupState === 'SUCCESS');
  if (!picked) return;
  const { record } = picked;
  const cluster = services.cluster(picked.cluster);
  const dest = await askDestination(services, record);
  if (!dest) return;
  const s3 = dest.kind === 's3' ? await s3Access(services, dest) : {};
  if (!s3) return;
  const abort = new AbortController();
  try {
    const copy = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `Copying ${record.fileName} to ${dest.url}`, cancellable: true }, async (progress, token) => {
      token.onCancellationRequested(() => abort.abort());
      progress.report({ message: 'sending, then reading it back to check its SHA-256' });
      // Host-path archives are read on their node; the record is updated through any manager.
      const docker = record.location === 'host' ? await dockerOfNode(services, cluster, record.nodeLocation) : (await services.anyManagerDocker(cluster).catch(() => undefined))?.docker;
      return copyBackup({ record }, dest.url, {
        docker,
        signal: abort.signal,
        s3,
        sftp: { confirmUnknownHostKey: (info) => services.confirmHostKey(info), keyPassphrase: (file) => services.passphrases.forSshKey(file) },
      });
    });
    services.log.info(`Copied ${labelOf(record)} to ${copy.location} (${copy.size} bytes, sha256 ${copy.sha256}, read back and checked).`);
    for (const left of copy.staleRemoved ?? []) services.log.info(`Removed ${left}, left by an interrupted copy.`);
    void vscode.window.showInformationMessage(`Copied ${record.fileName} to ${copy.location}: read back, SHA-256 checked.`);
  } catch (err) {
    // Only the admin's cancel reads as one: a network "aborted" is a failure, and says so.
    if (abort.signal.aborted || err instanceof CancelledError) {
      services.log.info(`Copy of ${record.fileName} to ${dest.url} cancelled.`);
      void vscode.window.showInformationMessage(`Copy of ${record.fileName} cancelled: nothing was left at ${dest.url}.`);
      return;
    }
    // Keys the store refuses are forgotten, so the next copy asks for them again.
    if (dest.kind === 's3' && s3.credentials && /refused the credentials/.test(describeError(err))) {
      await services.context.secrets.delete(s3SecretKey(s3.endpoint ?? '', dest.bucket));
      services.log.info(`The S3 keys kept for ${dest.bucket} were refused and forgotten; the next copy asks for them.`);
    }
    await showError(services.log, `Copy of ${record.fileName} to ${dest.url} failed`, err);
  } finally {
    tree.refreshBackups();
  }
}
