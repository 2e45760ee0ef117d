/**
 * Where an API cluster's secrets and trust live, without `vscode` (unit-tested):
 * - the UCP password and a client bundle's key.pem in SecretStorage (the OS keychain), one key
 *   per cluster;
 * - the bundle's public parts (cert.pem, ca.pem) and the pinned UCP CAs in globalState.
 * The token is never stored: UcpApiClusters keeps it in memory only.
 */
import type { CaPin, CaPinStore } from '../../core/api/caTrust';
import type { SecretStore } from '../secretKeys';

export const ucpPasswordKey = (cluster: string) => `ucpBackup.ucpPassword.${cluster}`;
export const ucpBundleKeyKey = (cluster: string) => `ucpBackup.ucpBundleKey.${cluster}`;
export const BUNDLE_STATE_KEY = 'ucpBackup.ucpBundles';
export const CA_PINS_STATE_KEY = 'ucpBackup.ucpCaPins';

/** The part of vscode.Memento (globalState) we use. */
export interface StateStore {
  get<T>(key: string): T | undefined;
  update(key: string, value: unknown): Thenable<void>;
}

/** UCP CAs pinned per origin (https://host:port), as known_hosts pins SSH host keys. */
export class StateCaPinStore implements CaPinStore {
  constructor(private readonly state: StateStore) {}

  private all(): Record<string, CaPin> {
    return { ...(this.state.get<Record<string, CaPin>>(CA_PINS_STATE_KEY) ?? {}) };
  }

  async get(origin: string): Promise<CaPin | undefined> {
    return this.all()[origin];
  }

  async set(origin: string, pin: CaPin): Promise<void> {
    await this.state.update(CA_PINS_STATE_KEY, { ...this.all(), [origin]: pin });
  }

  /** Removing a cluster removes its pin, so the admin can re-add it after a legitimate CA change. */
  async forget(origin: string): Promise<boolean> {
    const all = this.all();
    if (!(origin in all)) return false;
    delete all[origin];
    await this.state.update(CA_PINS_STATE_KEY, all);
    return true;
  }
}

export interface StoredBundle {
  ca: string;
  cert: string;
  key: string;
}

/** The API cluster's secrets: password, or bundle (key in SecretStorage, certificates in state). */
export class ApiSecrets {
  constructor(
    private readonly secrets: SecretStore,
    private readonly state: StateStore,
  ) {}

  password(cluster: string): Thenable<string | undefined> {
    return this.secrets.get(ucpPasswordKey(cluster));
  }

  async rememberPassword(cluster: string, password: string): Promise<void> {
    await this.secrets.store(ucpPasswordKey(cluster), password);
  }

  async forgetPassword(cluster: string): Promise<void> {
    await this.secrets.delete(ucpPasswordKey(cluster));
  }

  async rememberBundle(cluster: string, bundle: StoredBundle): Promise<void> {
    await this.secrets.store(ucpBundleKeyKey(cluster), bundle.key);
    const all = { ...(this.state.get<Record<string, { ca: string; cert: string }>>(BUNDLE_STATE_KEY) ?? {}) };
    all[cluster] = { ca: bundle.ca, cert: bundle.cert };
    await this.state.update(BUNDLE_STATE_KEY, all);
  }

  async bundle(cluster: string): Promise<StoredBundle | undefined> {
    const pub = this.state.get<Record<string, { ca: string; cert: string }>>(BUNDLE_STATE_KEY)?.[cluster];
    const key = await this.secrets.get(ucpBundleKeyKey(cluster));
    return pub && key ? { ...pub, key } : undefined;
  }

  /** Everything of the cluster (Remove Cluster). */
  async forget(cluster: string): Promise<void> {
    await this.secrets.delete(ucpPasswordKey(cluster));
    await this.secrets.delete(ucpBundleKeyKey(cluster));
    const all = { ...(this.state.get<Record<string, unknown>>(BUNDLE_STATE_KEY) ?? {}) };
    if (cluster in all) {
      delete all[cluster];
      await this.state.update(BUNDLE_STATE_KEY, all);
    }
  }
}
