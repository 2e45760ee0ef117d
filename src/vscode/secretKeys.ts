/**
 * Which SecretStorage key holds what, and the store / forget operations on them, without
 * `vscode` (unit-tested). One key per cluster for the backup passphrase, one per identity
 * file for an SSH key's passphrase.
 */

/** The part of vscode.SecretStorage we use. */
export interface SecretStore {
  get(key: string): Thenable<string | undefined>;
  store(key: string, value: string): Thenable<void>;
  delete(key: string): Thenable<void>;
}

export const backupPassphraseKey = (cluster: string) => `ucpBackup.passphrase.${cluster}`;
export const sshKeyPassphraseKey = (identityFile: string) => `ucpBackup.sshKeyPassphrase.${identityFile}`;

export class StoredPassphrases {
  constructor(protected readonly secrets: SecretStore) {}

  stored(cluster: string): Thenable<string | undefined> {
    return this.secrets.get(backupPassphraseKey(cluster));
  }

  async remember(cluster: string, passphrase: string): Promise<void> {
    await this.secrets.store(backupPassphraseKey(cluster), passphrase);
  }

  /** "Forget Passphrase": deletes the cluster's key; true when one was stored. */
  async forget(cluster: string): Promise<boolean> {
    const had = (await this.stored(cluster)) !== undefined;
    await this.secrets.delete(backupPassphraseKey(cluster));
    return had;
  }
}
