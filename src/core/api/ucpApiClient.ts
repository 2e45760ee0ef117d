/**
 * Client of the UCP backup API (back-up-ucp.txt, "Create, list, and retrieve UCP backups using
 * the API"): POST /api/ucp/backup, GET /api/ucp/backups, GET /api/ucp/backup/{id}. Callers
 * identify as the docs show, with `Authorization: Bearer` and a token from POST /auth/login,
 * or with a UCP client bundle's certificate (mutual TLS, UCP's other way to authenticate).
 * Given the password (a provider: the CLI's --password-file, VS Code's SecretStorage), an
 * expired token is renewed by logging in again, once per request. Secrets (password, token,
 * passphrase) never appear in errors or logs.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { CancelledError, ConfigError } from '../errors';
import { explainUntrustedCertificate } from './caTrust';
import {
  AnotherBackupRunningError,
  AuthenticationError,
  BackupNotFoundError,
  WaitCancelledError,
  ForbiddenError,
  InvalidResponseError,
  MalformedRequestError,
  ServerError,
} from './errors';
import { exchange, parseJsonBody, serverMessage, UNTRUSTED_CODES, type Reply, type TlsOptions } from './httpsTransport';
import { missingFieldsWarning } from './recordText';
import { checkBackupList, checkBackupRecord, parseBackupId, type CheckedBackupRecord, type CreateBackupRequest, type UcpBackupRecord } from './schema';
import { TlsError } from './tlsErrors';

export interface UcpCredentials {
  username: string;
  /** Asked for only when a login is due, so the caller decides how long the password lives in memory. */
  password: () => Promise<string>;
}

export interface UcpApiOptions extends TlsOptions {
  /** https://<ucp-host>[:port] */
  url: string;
  /** Per request; default 30 s. */
  timeoutMs?: number;
  token?: string;
  /** Lets the client log in when it has no token, and again (once) when UCP answers 401 to one. */
  credentials?: UcpCredentials;
  /** The token after a renewal: VS Code keeps it in memory, the CLI rewrites --token-file. Never log it. */
  onTokenRenewed?: (token: string) => void;
  /** A record lacks documented fields: a warning for the admin, the call still succeeds. */
  onSchemaWarning?: (warning: string) => void;
}

export interface CallOptions {
  signal?: AbortSignal;
}

export interface WaitOptions extends CallOptions {
  /** Default 2000 ms. */
  intervalMs?: number;
  /**
   * Backoff: while nothing changes, the wait grows by half each poll up to this (default:
   * intervalMs, no backoff); a change resets it. Long backups then cost UCP few requests.
   */
  maxIntervalMs?: number;
  /** Called with each record whose state or completed_at changed. */
  onUpdate?: (checked: CheckedBackupRecord) => void;
}

export class UcpApiClient {
  readonly baseUrl: URL;
  #token: string | undefined;
  #renewal: Promise<void> | undefined;
  /** Warnings already given, so polling does not repeat one every interval. */
  #warned = new Set<string>();

  constructor(private readonly options: UcpApiOptions) {
    let url: URL;
    try {
      url = new URL(options.url);
    } catch {
      throw new ConfigError(`Not a URL: ${options.url}`, 'Pass --url https://<ucp-host>[:port].');
    }
    if (url.protocol !== 'https:') throw new ConfigError(`The UCP API is served over HTTPS, not ${url.protocol}`, 'Pass --url https://<ucp-host>[:port].');
    this.baseUrl = url;
    this.#token = options.token;
  }

  get token(): string | undefined {
    return this.#token;
  }

  /** A client for the same UCP that sends this bearer token. */
  withToken(token: string): UcpApiClient {
    return new UcpApiClient({ ...this.options, token });
  }

  /** POST /auth/login; keeps the token for later calls and returns it. */
  async login(username: string, password: string, opts: CallOptions = {}): Promise<string> {
    const reply = await this.#send('POST', '/auth/login', { username, password }, opts.signal, false);
    if (reply.status === 401 || reply.status === 403) {
      throw new AuthenticationError(`UCP rejected the login of "${username}" (${reply.status}).`, 'Check the user name and the password file (its first line is the password).');
    }
    this.#expectOk(reply);
    const token = (parseJsonBody(reply.body, 'POST /auth/login') as { auth_token?: unknown } | null)?.auth_token;
    if (typeof token !== 'string' || !token) throw new InvalidResponseError('POST /auth/login did not answer {"auth_token": ...}');
    this.#token = token;
    return token;
  }

  /** POST /api/ucp/backup; returns the new backup's ID. The backup then runs on UCP's side. */
  async createBackup(req: CreateBackupRequest, opts: CallOptions = {}): Promise<string> {
    // The documented fields only (the doc's curl example spells them `encrypted`/`logFileName`).
    const body: CreateBackupRequest = { fileName: req.fileName, hostPath: req.hostPath, includeLogs: req.includeLogs ?? false };
    if (req.noPassphrase) body.noPassphrase = true;
    if (req.passphrase !== undefined) body.passphrase = req.passphrase;
    const reply = await this.#call('POST', '/api/ucp/backup', body, opts.signal);
    if (reply.status === 400) throw new MalformedRequestError(serverMessage(reply.body));
    if (reply.status >= 500 && /another backup is running/i.test(reply.body)) throw new AnotherBackupRunningError(serverMessage(reply.body));
    this.#expectOk(reply);
    return parseBackupId(reply.body);
  }

  /** GET /api/ucp/backups, each record with what it lacks and what it adds to the documented schema. */
  async listBackupsChecked(opts: CallOptions = {}): Promise<CheckedBackupRecord[]> {
    const reply = await this.#call('GET', '/api/ucp/backups', undefined, opts.signal);
    this.#expectOk(reply);
    const checked = checkBackupList(parseJsonBody(reply.body, 'GET /api/ucp/backups'));
    this.#warn(missingFieldsWarning(checked));
    return checked;
  }

  /** GET /api/ucp/backups */
  async listBackups(opts: CallOptions = {}): Promise<UcpBackupRecord[]> {
    return (await this.listBackupsChecked(opts)).map((c) => c.record);
  }

  /** GET /api/ucp/backup/{id}; a 404 is BackupNotFoundError. */
  async getBackupChecked(id: string, opts: CallOptions = {}): Promise<CheckedBackupRecord> {
    const reply = await this.#call('GET', `/api/ucp/backup/${encodeURIComponent(id)}`, undefined, opts.signal);
    if (reply.status === 404) throw new BackupNotFoundError(id);
    this.#expectOk(reply);
    const checked = checkBackupRecord(parseJsonBody(reply.body, 'GET /api/ucp/backup/{id}'));
    if (checked.record.id !== id) throw new InvalidResponseError(`asked for backup ${id}, got ${checked.record.id}`);
    this.#warn(missingFieldsWarning([checked]));
    return checked;
  }

  async getBackup(id: string, opts: CallOptions = {}): Promise<UcpBackupRecord> {
    return (await this.getBackupChecked(id, opts)).record;
  }

  /** Polls GET /api/ucp/backup/{id} until the backup is SUCCESS or FAILED. */
  async waitForBackup(id: string, opts: WaitOptions = {}): Promise<UcpBackupRecord> {
    return (await this.waitForBackupChecked(id, opts)).record;
  }

  /** A cancel stops the waiting only: the backup goes on in UCP (WaitCancelledError says so). */
  async waitForBackupChecked(id: string, opts: WaitOptions = {}): Promise<CheckedBackupRecord> {
    const base = opts.intervalMs ?? 2000;
    const max = Math.max(base, opts.maxIntervalMs ?? base);
    let interval = base;
    let last = '';
    try {
      for (;;) {
        const checked = await this.getBackupChecked(id, opts);
        const key = `${checked.record.backupState} ${checked.record.completed_at}`;
        if (key !== last) {
          opts.onUpdate?.(checked);
          interval = base;
        } else {
          interval = Math.min(max, interval * 1.5);
        }
        last = key;
        if (checked.record.backupState !== 'IN_PROGRESS') return checked;
        await sleep(interval, undefined, { signal: opts.signal });
      }
    } catch (err) {
      if (err instanceof CancelledError || opts.signal?.aborted) throw new WaitCancelledError(id);
      throw err;
    }
  }

  #warn(warning: string | undefined): void {
    if (!warning || this.#warned.has(warning)) return;
    this.#warned.add(warning);
    this.options.onSchemaWarning?.(warning);
  }

  #expectOk(reply: Reply): void {
    if (reply.status === 200) return;
    if (reply.status === 401 && !this.#token && this.options.clientCert) {
      throw new AuthenticationError('UCP did not accept the client bundle certificate (401).', 'The bundle may be revoked or from another UCP: download a new one (My Profile → Client Bundles).');
    }
    if (reply.status === 401) throw new AuthenticationError();
    if (reply.status === 403) throw new ForbiddenError();
    throw new ServerError(reply.status, serverMessage(reply.body));
  }

  /** An authenticated call: logs in first if it can and must; on a 401 to a token, logs in again and retries once. */
  async #call(method: string, path: string, body: unknown, signal: AbortSignal | undefined): Promise<Reply> {
    const creds = this.options.credentials;
    let fresh = false;
    if (!this.#token && !this.options.clientCert) {
      if (!creds) throw new AuthenticationError('No UCP token.', 'Log in first (`ucp-backup api login`, or --username with --password-file), or use a client bundle.');
      await this.#renew(undefined, signal);
      fresh = true;
    }
    const sentWith = this.#token;
    let reply = await this.#send(method, path, body, signal, true);
    if (reply.status !== 401 || !creds || sentWith === undefined) return reply;
    // A token from a login moments ago is not expired: logging in again would only loop.
    if (!fresh) {
      await this.#renew(sentWith, signal);
      reply = await this.#send(method, path, body, signal, true);
    }
    if (reply.status === 401) {
      throw new AuthenticationError(
        fresh
          ? `UCP rejected the token it had just issued (401), right after logging in as "${creds.username}".`
          : `UCP rejected the new token too (401), right after logging in again as "${creds.username}".`,
        'The login works but the account cannot use the API: check it in UCP (Access Control → Users) and the ucp-controller and ucp-auth logs.',
      );
    }
    return reply;
  }

  /** One login for all the calls that found `stale` expired at once. */
  async #renew(stale: string | undefined, signal: AbortSignal | undefined): Promise<void> {
    if (this.#token !== stale) return;
    if (!this.#renewal) {
      const creds = this.options.credentials!;
      this.#renewal = (async () => {
        try {
          const token = await this.login(creds.username, await creds.password(), { signal });
          if (stale !== undefined) this.options.onTokenRenewed?.(token);
        } catch (err) {
          if (stale !== undefined && err instanceof AuthenticationError) {
            throw new AuthenticationError(
              `UCP no longer accepted the token (401), and logging in again as "${creds.username}" was refused.`,
              'The password may have changed: update it (CLI: --password-file) and retry.',
            );
          }
          throw err;
        } finally {
          this.#renewal = undefined;
        }
      })();
    }
    await this.#renewal;
  }

  async #send(method: string, path: string, body: unknown, signal: AbortSignal | undefined, auth: boolean): Promise<Reply> {
    const url = new URL(path, this.baseUrl);
    try {
      return await exchange(this.options, {
        url,
        method,
        what: `${method} ${path.replace(/^\/api\/ucp\/backup\/.+/, '/api/ucp/backup/{id}')}`,
        body,
        headers: auth && this.#token ? { authorization: `Bearer ${this.#token}` } : {},
        timeoutMs: this.options.timeoutMs ?? 30_000,
        signal,
      });
    } catch (err) {
      // An untrusted chain is a CA question: /ca tells whether the CA changed or was never trusted.
      if (err instanceof TlsError && err.code && UNTRUSTED_CODES.has(err.code) && !this.options.insecure) {
        throw (await explainUntrustedCertificate(this.baseUrl, this.options.ca?.toString(), signal)) ?? err;
      }
      throw err;
    }
  }
}
