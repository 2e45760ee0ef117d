/**
 * Client of the UCP backup API (back-up-ucp.txt, "Create, list, and retrieve UCP backups using
 * the API"): POST /api/ucp/backup, GET /api/ucp/backups, GET /api/ucp/backup/{id}. Callers
 * identify as the docs show, with `Authorization: Bearer` and a token from POST /auth/login,
 * or with a UCP client bundle's certificate (mutual TLS, UCP's other way to authenticate).
 * Secrets (password, token, passphrase) never appear in errors or logs.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { CancelledError, ConfigError } from '../errors';
import {
  AnotherBackupRunningError,
  AuthenticationError,
  BackupNotFoundError,
  ForbiddenError,
  InvalidResponseError,
  MalformedRequestError,
  ServerError,
} from './errors';
import { exchange, parseJsonBody, serverMessage, type Reply, type TlsOptions } from './httpsTransport';
import type { BackupRecord } from '../history/record';
import { parseBackupId, parseBackupList, parseBackupRecord, type CreateBackupRequest } from './schema';

export interface UcpApiOptions extends TlsOptions {
  /** https://<ucp-host>[:port] */
  url: string;
  /** Per request; default 30 s. */
  timeoutMs?: number;
  token?: string;
}

export interface CallOptions {
  signal?: AbortSignal;
}

export interface WaitOptions extends CallOptions {
  /** Default 2000 ms. */
  intervalMs?: number;
  /** Called with each record whose state or completed_at changed. */
  onUpdate?: (record: BackupRecord) => void;
}

export class UcpApiClient {
  readonly baseUrl: URL;
  #token: string | undefined;

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

  /** GET /api/ucp/backups */
  async listBackups(opts: CallOptions = {}): Promise<BackupRecord[]> {
    const reply = await this.#call('GET', '/api/ucp/backups', undefined, opts.signal);
    this.#expectOk(reply);
    return parseBackupList(parseJsonBody(reply.body, 'GET /api/ucp/backups'));
  }

  /** GET /api/ucp/backup/{id}; a 404 is BackupNotFoundError. */
  async getBackup(id: string, opts: CallOptions = {}): Promise<BackupRecord> {
    const reply = await this.#call('GET', `/api/ucp/backup/${encodeURIComponent(id)}`, undefined, opts.signal);
    if (reply.status === 404) throw new BackupNotFoundError(id);
    this.#expectOk(reply);
    const record = parseBackupRecord(parseJsonBody(reply.body, 'GET /api/ucp/backup/{id}'));
    if (record.id !== id) throw new InvalidResponseError(`asked for backup ${id}, got ${record.id}`);
    return record;
  }

  /** Polls GET /api/ucp/backup/{id} until the backup is SUCCESS or FAILED. */
  async waitForBackup(id: string, opts: WaitOptions = {}): Promise<BackupRecord> {
    const interval = opts.intervalMs ?? 2000;
    let last = '';
    for (;;) {
      const record = await this.getBackup(id, opts);
      const key = `${record.backupState} ${record.completed_at}`;
      if (key !== last) opts.onUpdate?.(record);
      last = key;
      if (record.backupState !== 'IN_PROGRESS') return record;
      try {
        await sleep(interval, undefined, { signal: opts.signal });
      } catch {
        throw new CancelledError();
      }
    }
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

  #call(method: string, path: string, body: unknown, signal: AbortSignal | undefined): Promise<Reply> {
    if (!this.#token && !this.options.clientCert) {
      throw new AuthenticationError('No UCP token.', 'Log in first (`ucp-backup api login`, or --username with --password-file), or use a client bundle.');
    }
    return this.#send(method, path, body, signal, true);
  }

  async #send(method: string, path: string, body: unknown, signal: AbortSignal | undefined, auth: boolean): Promise<Reply> {
    return exchange(this.options, {
      url: new URL(path, this.baseUrl),
      method,
      what: `${method} ${path.replace(/^\/api\/ucp\/backup\/.+/, '/api/ucp/backup/{id}')}`,
      body,
      headers: auth && this.#token ? { authorization: `Bearer ${this.#token}` } : {},
      timeoutMs: this.options.timeoutMs ?? 30_000,
      signal,
    });
  }
}
