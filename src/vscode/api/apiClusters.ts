/**
 * One UCP API client per API cluster (config ucpUrl + ucpAuth), for the tree and the flows.
 * Trust first, like SSH host keys: the CA UCP serves at /ca is shown with its SHA-256
 * fingerprint and pinned on consent (globalState); a changed CA is refused before any
 * password is sent. The password (or the client bundle's key) comes from SecretStorage and is
 * asked once when missing; the token lives only in the client, in memory, renewed on a 401 once.
 */
import * as vscode from 'vscode';
import { trustUcpCa, type CaOffer } from '../../core/api/caTrust';
import { UcpApiClient } from '../../core/api/ucpApiClient';
import type { TlsOptions } from '../../core/api/httpsTransport';
import type { ClusterConfig } from '../../core/config';
import { ConfigError } from '../../core/errors';
import type { Log } from '../log';
import { isRejectedLogin } from './apiErrors';
import { ApiSecrets, StateCaPinStore } from './apiSecrets';

export const TRUST_CA = 'Trust This CA';

/** Said (once a session per cluster, and in the log on each client) when ucpInsecure is set. */
export const insecureWarning = (cluster: string) =>
  `Cluster ${cluster}: UCP's certificate is NOT checked (ucpInsecure is set): anyone on the network path can read the password and token and forge UCP's answers. Remove "ucpInsecure" from the cluster's settings to pin UCP's CA instead.`;

export class UcpApiClusters {
  readonly secrets: ApiSecrets;
  readonly pins: StateCaPinStore;
  readonly #clients = new Map<string, { key: string; client: Promise<UcpApiClient> }>();
  readonly #warnedInsecure = new Set<string>();

  constructor(
    context: vscode.ExtensionContext,
    private readonly log: Log,
  ) {
    this.secrets = new ApiSecrets(context.secrets, context.globalState);
    this.pins = new StateCaPinStore(context.globalState);
  }

  /** The cluster's client (made once; a changed configuration makes a new one). */
  client(cluster: ClusterConfig): Promise<UcpApiClient> {
    const key = JSON.stringify([cluster.ucpUrl, cluster.ucpAuth, cluster.ucpUsername, !!cluster.ucpInsecure]);
    const cached = this.#clients.get(cluster.name);
    if (cached && cached.key === key) return cached.client;
    const client = this.create(cluster);
    this.#clients.set(cluster.name, { key, client });
    // A failed set-up (consent refused, no bundle) is asked again next time, not remembered.
    client.catch(() => {
      if (this.#clients.get(cluster.name)?.client === client) this.#clients.delete(cluster.name);
    });
    return client;
  }

  /** Runs `fn` with the cluster's client; a refused login forgets the stored password (asked again next time). */
  async use<T>(cluster: ClusterConfig, fn: (client: UcpApiClient) => Promise<T>): Promise<T> {
    const client = await this.client(cluster);
    try {
      return await fn(client);
    } catch (err) {
      if (isRejectedLogin(err)) {
        await this.secrets.forgetPassword(cluster.name);
        this.drop(cluster.name);
      }
      throw err;
    }
  }

  /** Drops the client and its in-memory token (Remove Cluster, a rejected password). */
  drop(cluster: string): void {
    this.#clients.delete(cluster);
  }

  /** A client built from explicit answers (Add Cluster's connection test), nothing stored yet. */
  async create(cluster: ClusterConfig, given?: { password?: string; bundle?: { ca: string; cert: string; key: string } }): Promise<UcpApiClient> {
    if (!cluster.ucpUrl) throw new ConfigError(`Cluster ${cluster.name} has no ucpUrl.`, 'Add the UCP URL to the cluster (UCP: Add Cluster → UCP URL and login).');
    const url = new URL(cluster.ucpUrl);
    const tls: TlsOptions = {};
    if (cluster.ucpAuth === 'bundle') {
      const bundle = given?.bundle ?? (await this.secrets.bundle(cluster.name));
      if (!bundle) throw new ConfigError(`The client bundle of cluster ${cluster.name} is not in VS Code's secret storage.`, 'Remove the cluster and add it again with its client bundle (UCP: Add Cluster → client bundle).');
      tls.clientCert = { cert: bundle.cert, key: bundle.key };
      // The bundle's ca.pem is UCP's CA, as UCP issued it with the bundle: trusted, and only it.
      if (!cluster.ucpInsecure) tls.ca = bundle.ca;
    }
    if (cluster.ucpInsecure) {
      tls.insecure = true;
      tls.ca = undefined;
      this.log.warn(insecureWarning(cluster.name));
      if (!this.#warnedInsecure.has(cluster.name)) {
        this.#warnedInsecure.add(cluster.name);
        void vscode.window.showWarningMessage(insecureWarning(cluster.name));
      }
    } else if (!tls.ca) {
      tls.ca = await trustUcpCa(url, this.pins, (offer) => this.consent(cluster.name, offer));
    }
    const username = cluster.ucpUsername;
    return new UcpApiClient({
      url: cluster.ucpUrl,
      ...tls,
      credentials:
        cluster.ucpAuth === 'login' && username
          ? { username, password: async () => given?.password ?? (await this.password(cluster.name, username, url)) }
          : undefined,
      onTokenRenewed: () => this.log.info(`UCP API of ${cluster.name}: the token expired (401); logged in again as ${username}.`),
      onSchemaWarning: (w) => this.log.warn(`UCP API of ${cluster.name}: ${w}`),
    });
  }

  /** The stored password, else asked (and stored: a refused login forgets it again). */
  private async password(cluster: string, username: string, url: URL): Promise<string> {
    const stored = await this.secrets.password(cluster);
    if (stored) return stored;
    const typed = await vscode.window.showInputBox({
      title: `UCP password of ${username} at ${url.host}`,
      prompt: `For cluster ${cluster}; kept in VS Code's secret storage.`,
      password: true,
      ignoreFocusOut: true,
    });
    if (!typed) throw new ConfigError(`No UCP password for ${username} at ${url.host}.`, 'Give the password when asked to use the UCP API of this cluster.');
    await this.secrets.rememberPassword(cluster, typed);
    return typed;
  }

  /** The SSH host-key prompt's twin: the admin compares the fingerprint out of band. */
  async consent(cluster: string, offer: CaOffer): Promise<boolean> {
    const host = new URL(offer.origin).host;
    const lines = offer.certificates.map((c) => `SHA-256 fingerprint: ${c.sha256}\nSubject: ${c.subject}`).join('\n\n');
    const answer = await vscode.window.showWarningMessage(
      `The certificate authority of UCP at ${host} is not trusted yet.`,
      {
        modal: true,
        detail: `UCP serves this CA at ${offer.origin}/ca:\n\n${lines}\n\nCompare the fingerprint with UCP's admin (on a manager: openssl x509 -noout -fingerprint -sha256 of cert.pem in the ucp-cluster-root-ca volume) before trusting it. It is pinned for ${offer.origin}: a different CA later is refused.`,
      },
      TRUST_CA,
    );
    const ok = answer === TRUST_CA;
    this.log.info(`UCP CA ${offer.certificates.map((c) => c.sha256).join(', ')} of ${host} (cluster ${cluster}) ${ok ? 'trusted and pinned' : 'rejected'} by the user.`);
    return ok;
  }

  /** Remove Cluster: secrets, the in-memory token and the CA pin (so a re-add asks again). */
  async forget(cluster: ClusterConfig, othersUsingUrl: boolean): Promise<void> {
    this.drop(cluster.name);
    await this.secrets.forget(cluster.name);
    if (cluster.ucpUrl && !othersUsingUrl) await this.pins.forget(new URL(cluster.ucpUrl).origin).catch(() => false);
  }
}
