/**
 * Client of the UCP backup API (back-up-ucp.txt, "Create, list, and retrieve UCP backups using
 * the API"): POST /api/ucp/backup, GET /api/ucp/backups, GET /api/ucp/backup/{id}. Callers
 * identify as the docs show, with `Authorization: Bearer` and a token from POST /auth/login,
 * or with a UCP client bundle's certificate (mutual TLS, UCP's other way to authenticate).
 * node:https rather than fetch: Node 20's fetch cannot take a custom CA or client certificate,
 * and UCP usually serves a certificate of its own CA. Secrets (password, token, passphrase)
 * never appear in errors or logs.
 */
import https from 'node:https';
import { setTimeout as sleep } from 'node:timers/promises';
import { CancelledError, ConfigError, throwIfAborted } from '../errors';
import type { BackupRecord } from '../history/record';
import {
  AnotherBackupRunningError,
  ApiTimeoutError,
  AuthenticationError,
  BackupNotFoundError,
  ConnectionError,
  ForbiddenError,
  InvalidResponseError,
  MalformedRequestError,
  ServerError,
  TlsError,
  UcpApiError,
} from './errors';
import { parseBackupId, parseBackupList, parseBackupRecord, type CreateBackupRequest } from './schema';

export interface UcpApiOptions {
  /** https://<ucp-host>[:port] */
  url: string;
  /** PEM CA bundle that signed UCP's certificate (https://<ucp>/ca serves it). */
  ca?: string | Buffer;
  /** Skip certificate checks: only for a UCP with a self-signed certificate you trust. */
  insecure?: boolean;
  /** Per request; default 30 s. */
  timeoutMs?: number;
  token?: string;
  /** cert.pem + key.pem of a UCP client bundle: authenticates without a token. */
  clientCert?: { cert: string | Buffer; key: string | Buffer };
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

interface Reply {
  status: number;
  body: string;
}

/** A response larger than this is not a backup list: refuse instead of buffering it. */
const MAX_BODY = 16 * 1024 * 1024;

const TLS_CODES = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'CERT_SIGNATURE_FAILURE',
]);

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
    const reply = await this.#request('POST', '/auth/login', { username, password }, opts.signal, false);
    if (reply.status === 401 || reply.status === 403) {
      throw new AuthenticationError(`UCP rejected the login of "${username}" (${reply.status}).`, 'Check the user name and the password file (its first line is the password).');
    }
    this.#expectOk(reply);
    let token: unknown;
    try {
      token = (JSON.parse(reply.body) as { auth_token?: unknown }).auth_token;
    } catch {
      // handled below
    }
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
    const reply = await this.#request('POST', '/api/ucp/backup', body, opts.signal);
    if (reply.status === 400) throw new MalformedRequestError(serverMessage(reply.body));
    if (reply.status >= 500 && /another backup is running/i.test(reply.body)) throw new AnotherBackupRunningError(serverMessage(reply.body));
    this.#expectOk(reply);
    return parseBackupId(reply.body);
  }

  /** GET /api/ucp/backups */
  async listBackups(opts: CallOptions = {}): Promise<BackupRecord[]> {
    const reply = await this.#request('GET', '/api/ucp/backups', undefined, opts.signal);
    this.#expectOk(reply);
    return parseBackupList(parseJson(reply.body, 'GET /api/ucp/backups'));
  }

  /** GET /api/ucp/backup/{id}; a 404 is BackupNotFoundError. */
  async getBackup(id: string, opts: CallOptions = {}): Promise<BackupRecord> {
    const reply = await this.#request('GET', `/api/ucp/backup/${encodeURIComponent(id)}`, undefined, opts.signal);
    if (reply.status === 404) throw new BackupNotFoundError(id);
    this.#expectOk(reply);
    const record = parseBackupRecord(parseJson(reply.body, 'GET /api/ucp/backup/{id}'));
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

  #request(method: string, path: string, body: unknown, signal: AbortSignal | undefined, auth = true): Promise<Reply> {
    throwIfAborted(signal);
    if (auth && !this.#token && !this.options.clientCert) {
      throw new AuthenticationError('No UCP token.', 'Log in first (`ucp-backup api login`, or --username with --password-file), or use a client bundle.');
    }
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    const timeoutMs = this.options.timeoutMs ?? 30_000;
    const url = new URL(path, this.baseUrl);
    return new Promise<Reply>((resolve, reject) => {
      const req = https.request(url, {
        method,
        ca: this.options.ca,
        cert: this.options.clientCert?.cert,
        key: this.options.clientCert?.key,
        rejectUnauthorized: !this.options.insecure,
        timeout: timeoutMs,
        signal,
        headers: {
          accept: 'application/json',
          ...(payload ? { 'content-type': 'application/json', 'content-length': payload.length } : {}),
          ...(auth && this.#token ? { authorization: `Bearer ${this.#token}` } : {}),
        },
      });
      req.on('timeout', () => req.destroy(new ApiTimeoutError(timeoutMs)));
      req.on('error', (err) => reject(mapTransportError(err, signal, url)));
      req.on('response', (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          size += c.length;
          if (size > MAX_BODY) req.destroy(new InvalidResponseError(`${method} ${path} answered more than ${MAX_BODY} bytes`));
          else chunks.push(c);
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', (err) => reject(mapTransportError(err, signal, url)));
      });
      req.end(payload);
    });
  }
}

function mapTransportError(err: Error & { code?: string }, signal: AbortSignal | undefined, url: URL): Error {
  if (err instanceof UcpApiError) return err;
  if (signal?.aborted || err.name === 'AbortError') return new CancelledError();
  const where = url.host;
  if (err.code && TLS_CODES.has(err.code)) return new TlsError(`${where}: ${err.message} (${err.code})`, err.code, { cause: err });
  if (err.code === 'ECONNREFUSED') return new ConnectionError(`connection refused by ${where}`, { cause: err });
  if (err.code === 'ENOTFOUND' || err.code === 'EAI_AGAIN') return new ConnectionError(`no such host ${url.hostname}`, { cause: err });
  if (err.code === 'ECONNRESET' || err.code === 'EPROTO') {
    return new ConnectionError(`${where} closed the connection (${err.code})`, { cause: err, hint: 'If it does so at once, --url is not UCP\'s HTTPS port: it must point at the UCP controller (https://<ucp-host>[:port]).' });
  }
  return new ConnectionError(`${where}: ${err.message}`, { cause: err });
}

function parseJson(body: string, what: string): unknown {
  try {
    return JSON.parse(body);
  } catch {
    throw new InvalidResponseError(`${what} did not answer JSON`);
  }
}

/** The server's own words, short: `{"message": ...}`, UCP's `{"errors":[{"message"}]}`, or text. */
function serverMessage(body: string): string {
  let msg = body.trim();
  try {
    const j = JSON.parse(body) as { message?: unknown; errors?: { message?: unknown }[] };
    if (typeof j.message === 'string') msg = j.message;
    else if (Array.isArray(j.errors) && typeof j.errors[0]?.message === 'string') msg = j.errors[0].message;
  } catch {
    // plain text
  }
  return msg.length > 300 ? `${msg.slice(0, 297)}...` : msg;
}
