/**
 * Backup passphrases and SSH key passphrases in VS Code's SecretStorage (the OS keychain),
 * one key per cluster / identity file. Prompts are input boxes with `password: true`.
 * Nothing here is logged or sent to the webview.
 */
import * as vscode from 'vscode';
import { MIN_PASSPHRASE_LENGTH } from '../core/archive/pgp';
import { StoredPassphrases, sshKeyPassphraseKey as sshKey } from './secretKeys';

export type PassphraseChoice = { passphrase: string; noPassphrase?: undefined } | { passphrase?: undefined; noPassphrase: true };

export const REMEMBER = 'Remember passphrase';
export const DONT_REMEMBER = "Don't remember";
export const NO_PASSPHRASE_BUTTON = 'Back Up Without Passphrase';

export class Passphrases extends StoredPassphrases {
  constructor(secrets: vscode.SecretStorage) {
    super(secrets);
  }

  /**
   * For a new backup: the stored passphrase, else ask (≥ 12 characters as UCP requires,
   * typed twice, then "remember?"). An empty entry means no passphrase, after a warning.
   * Undefined = the admin cancelled.
   */
  async forBackup(cluster: string): Promise<PassphraseChoice | undefined> {
    const stored = await this.stored(cluster);
    if (stored) return { passphrase: stored };
    const first = await vscode.window.showInputBox({
      title: `Backup passphrase for cluster ${cluster}`,
      prompt: `At least ${MIN_PASSPHRASE_LENGTH} characters. Leave empty to back up without encryption.`,
      password: true,
      ignoreFocusOut: true,
      validateInput: (v) => (v === '' || v.length >= MIN_PASSPHRASE_LENGTH ? undefined : `UCP requires at least ${MIN_PASSPHRASE_LENGTH} characters (${v.length} so far).`),
    });
    if (first === undefined) return undefined;
    if (first === '') {
      const ok = await vscode.window.showWarningMessage(
        'Back up without a passphrase?',
        { modal: true, detail: "The archive will hold UCP's private keys and certificates unencrypted. Anyone who can read the file can impersonate the cluster." },
        NO_PASSPHRASE_BUTTON,
      );
      return ok === NO_PASSPHRASE_BUTTON ? { noPassphrase: true } : undefined;
    }
    const again = await vscode.window.showInputBox({
      title: `Confirm the backup passphrase for cluster ${cluster}`,
      prompt: 'Type the passphrase again.',
      password: true,
      ignoreFocusOut: true,
      validateInput: (v) => (v === first ? undefined : 'The passphrases do not match.'),
    });
    if (again === undefined) return undefined;
    const remember = await vscode.window.showQuickPick(
      [
        { label: REMEMBER, description: "in VS Code's secret storage, for this cluster" },
        { label: DONT_REMEMBER, description: 'ask again next time' },
      ],
      { title: 'Remember the passphrase?', ignoreFocusOut: true },
    );
    if (!remember) return undefined;
    if (remember.label === REMEMBER) await this.remember(cluster, first);
    return { passphrase: first };
  }

  /** For reading an encrypted archive: the stored one first (unless it just failed), else ask. */
  async forDecrypt(label: string, cluster: string | undefined, previousFailed: boolean): Promise<string | undefined> {
    if (cluster && !previousFailed) {
      const stored = await this.stored(cluster);
      if (stored) return stored;
    }
    return vscode.window.showInputBox({
      title: `Passphrase for ${label}`,
      prompt: previousFailed ? 'That passphrase did not decrypt the backup. Try again.' : 'The backup is encrypted. Enter its passphrase.',
      password: true,
      ignoreFocusOut: true,
    });
  }

  /** SSH identity file passphrase: asked once, then kept in SecretStorage. */
  async forSshKey(identityFile: string): Promise<string | undefined> {
    const stored = await this.secrets.get(sshKey(identityFile));
    if (stored) return stored;
    const entered = await vscode.window.showInputBox({
      title: `Passphrase for SSH key ${identityFile}`,
      password: true,
      ignoreFocusOut: true,
    });
    if (entered) await this.secrets.store(sshKey(identityFile), entered);
    return entered;
  }
}
