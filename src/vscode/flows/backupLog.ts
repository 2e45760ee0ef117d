/**
 * "Show log" of one backup: the log written beside its archive (`--include-logs`), fetched from
 * this machine or the node, decrypted with the backup's passphrase when it is encrypted (it is
 * whenever the archive is), and opened read-only in an editor. Without a log file, the
 * "UCP Backup" output is shown and the reason said. The plaintext is shown only after the
 * OpenPGP integrity check passed; it lives in memory only (a read-only virtual document).
 */
import * as vscode from 'vscode';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { WrongPassphraseError } from '../../core/archive/errors';
import { detectArchive } from '../../core/archive/detect';
import { decryptStream } from '../../core/archive/pgp';
import type { ClusterConfig } from '../../core/config';
import { UcpError } from '../../core/errors';
import type { BackupRecord } from '../../core/history/record';
import { openHostFile } from '../coreAdapters';
import type { Services } from '../services';
import { dockerOfNode } from './backupAccess';

export const LOG_SCHEME = 'ucp-backup-log';
/** A backup log is a few KiB; anything far larger is not one of ours. */
const MAX_LOG_BYTES = 16 << 20;

class LogDocuments implements vscode.TextDocumentContentProvider {
  readonly texts = new Map<string, string>();
  provideTextDocumentContent(uri: vscode.Uri): string {
    return this.texts.get(uri.toString()) ?? 'This log is no longer in memory: open it again from the backup\'s details.';
  }
}

let documents: LogDocuments | undefined;

function logDocuments(services: Services): LogDocuments {
  if (!documents) {
    documents = new LogDocuments();
    services.context.subscriptions.push(vscode.workspace.registerTextDocumentContentProvider(LOG_SCHEME, documents));
  }
  return documents;
}

async function collect(stream: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream) {
    size += (chunk as Buffer).length;
    if (size > MAX_LOG_BYTES) throw new UcpError('The log file is larger than 16 MiB: it is not a backup log.');
    parts.push(chunk as Buffer);
  }
  return Buffer.concat(parts);
}

async function readLogBytes(services: Services, cluster: ClusterConfig, record: BackupRecord): Promise<Buffer> {
  if (record.location === 'local') {
    const path = join(record.backupPath, record.logFileName);
    const st = await stat(path).catch(() => undefined);
    if (!st) throw new UcpError(`The log of ${record.fileName} is not at ${path} on this machine: it was moved or deleted, or the backup was made elsewhere.`);
    if (st.size > MAX_LOG_BYTES) throw new UcpError('The log file is larger than 16 MiB: it is not a backup log.');
    return readFile(path);
  }
  const docker = await dockerOfNode(services, cluster, record.nodeLocation);
  return collect((await openHostFile(docker, record, record.logFileName)).stream);
}

/** The log's text: decrypted (asking for the passphrase unless stored; up to 3 tries) when it is OpenPGP. */
export async function backupLogText(services: Services, cluster: ClusterConfig, record: BackupRecord, bytes: Buffer): Promise<string | undefined> {
  const kind = detectArchive(bytes.subarray(0, 512)).kind;
  if (kind !== 'openpgp-binary' && kind !== 'openpgp-armored') return bytes.toString('utf8');
  for (let attempt = 0; attempt < 3; attempt++) {
    const passphrase = await services.passphrases.forDecrypt(record.logFileName, cluster.name, attempt > 0);
    if (passphrase === undefined) return undefined;
    try {
      // Collected to the end first: the integrity check fails the stream only at its end.
      return (await collect(await decryptStream(Readable.from([bytes]), passphrase, { armored: kind === 'openpgp-armored' }))).toString('utf8');
    } catch (err) {
      if (!(err instanceof WrongPassphraseError) || attempt === 2) throw err;
    }
  }
  return undefined;
}

export async function showBackupLog(services: Services, cluster: ClusterConfig, record: BackupRecord): Promise<void> {
  if (!record.logFileName) {
    void vscode.window.showInformationMessage(`${record.fileName || record.id} was made without its log ("No log" at Backup Now, or no --include-logs). The UCP Backup output shows this window's own lines.`);
    services.log.show(true);
    return;
  }
  const text = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `Reading ${record.logFileName}…` }, async () => backupLogText(services, cluster, record, await readLogBytes(services, cluster, record)));
  if (text === undefined) return;
  const docs = logDocuments(services);
  const uri = vscode.Uri.from({ scheme: LOG_SCHEME, path: `/${record.logFileName}`, query: `${cluster.name}/${record.id}` });
  docs.texts.set(uri.toString(), text);
  const doc = await vscode.languages.setTextDocumentLanguage(await vscode.workspace.openTextDocument(uri), 'log');
  await vscode.window.showTextDocument(doc, { preview: true });
}
