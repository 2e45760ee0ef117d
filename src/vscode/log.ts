/** The "UCP Backup" log (Output panel, LogOutputChannel). Never pass a passphrase here. */
import * as vscode from 'vscode';
import { describeError } from '../core/errors';

export type Log = vscode.LogOutputChannel;

export function createLog(): Log {
  return vscode.window.createOutputChannel('UCP Backup', { log: true });
}

/** Logs and shows an error notification with describeError's text (message + hint). */
export async function showError(log: Log, what: string, err: unknown, ...actions: string[]): Promise<string | undefined> {
  const text = describeError(err);
  log.error(`${what}: ${text}`);
  const picked = await vscode.window.showErrorMessage(`${what}: ${text}`, ...actions, 'Show Log');
  if (picked === 'Show Log') log.show(true);
  return picked;
}
