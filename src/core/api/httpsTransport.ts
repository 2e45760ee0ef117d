/**
 * One HTTPS exchange with UCP and what can go wrong on the way: node:https rather than fetch,
 * because Node 20's fetch cannot take a custom CA or client certificate, and UCP usually serves
 * a certificate of its own CA. An answer that stops early is reported as cut short, never as
 * "not JSON". Nothing here logs or repeats the headers (they carry the token).
 */
import https from 'node:https';
import { CancelledError, throwIfAborted } from '../errors';
import { ApiTimeoutError, ConnectionError, MalformedJsonError, ResponseCutShortError, UcpApiError, UnusableResponseError } from './errors';
import { TlsError } from './tlsErrors';

export interface TlsOptions {
  /** PEM CA bundle that signed UCP's certificate: a pinned one (caTrust.ts) or a --ca file. Replaces the system roots. */
  ca?: string | Buffer;
  /** Skip certificate checks: only as an explicit, warned choice (INSECURE_WARNING). */
  insecure?: boolean;
  /** cert.pem + key.pem of a UCP client bundle: authenticates without a token. */
  clientCert?: { cert: string | Buffer; key: string | Buffer };
}

export interface Exchange {
  url: URL;
  method: string;
  /** For messages: "GET /api/ucp/backups". */
  what: string;
  body?: unknown;
  headers?: Record<string, string>;
  timeoutMs: number;
  signal?: AbortSignal;
}

export interface Reply {
  status: number;
  body: string;
}

/** A response larger than this is not a backup list: refuse instead of buffering it. */
const MAX_BODY = 16 * 1024 * 1024;

/** Node's codes for a certificate chain it could not trust: a CA question, not a broken certificate. */
export const UNTRUSTED_CODES = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
]);
const TLS_CODES = new Set([...UNTRUSTED_CODES, 'CERT_HAS_EXPIRED', 'CERT_NOT_YET_VALID', 'ERR_TLS_CERT_ALTNAME_INVALID', 'CERT_SIGNATURE_FAILURE']);

export function exchange(tlsOptions: TlsOptions, ex: Exchange): Promise<Reply> {
  throwIfAborted(ex.signal);
  const payload = ex.body === undefined ? undefined : Buffer.from(JSON.stringify(ex.body));
  return new Promise<Reply>((resolve, reject) => {
    let settled = false;
    const settle = (fn: () => void) => {
      if (!settled) {
        settled = true;
        fn();
      }
    };
    const req = https.request(ex.url, {
      method: ex.method,
      ca: tlsOptions.ca,
      cert: tlsOptions.clientCert?.cert,
      key: tlsOptions.clientCert?.key,
      rejectUnauthorized: !tlsOptions.insecure,
      timeout: ex.timeoutMs,
      signal: ex.signal,
      headers: {
        accept: 'application/json',
        ...(payload ? { 'content-type': 'application/json', 'content-length': String(payload.length) } : {}),
        ...ex.headers,
      },
    });
    req.on('timeout', () => req.destroy(new ApiTimeoutError(ex.timeoutMs)));
    req.on('error', (err) => settle(() => reject(mapTransportError(err, ex.signal, ex.url))));
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      const promised = res.headers['content-length'] === undefined ? undefined : Number(res.headers['content-length']);
      const cutShort = () => {
        if (ex.signal?.aborted) return new CancelledError();
        return new ResponseCutShortError(ex.what, `the connection closed after ${size} bytes${promised !== undefined ? ` of the ${promised} announced` : ''}`);
      };
      res.on('data', (c: Buffer) => {
        size += c.length;
        if (size > MAX_BODY) req.destroy(new UnusableResponseError(`UCP's answer to ${ex.what} is larger than ${MAX_BODY / 1024 / 1024} MiB.`, 'That is not a backup list: is --url the UCP controller?'));
        else chunks.push(c);
      });
      res.on('end', () => settle(() => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') })));
      // Once the answer has begun, a reset or close means it was cut short, not that --url is wrong.
      res.on('error', (err) => settle(() => reject(err instanceof UcpApiError ? err : cutShort())));
      res.on('close', () => settle(() => reject(cutShort())));
    });
    req.end(payload);
  });
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

/**
 * JSON.parse with one clear sentence on failure: a body that breaks off where JSON still
 * expects more is cut short; an HTML page is named as such; anything else gives the byte.
 * The body itself is never quoted (a hostile server could echo secrets back).
 */
export function parseJsonBody(body: string, what: string): unknown {
  try {
    return JSON.parse(body);
  } catch (err) {
    const message = (err as Error).message;
    const text = body.trimEnd();
    if (text === '') throw new MalformedJsonError(what, 'the body is empty');
    if (text.startsWith('<')) throw new MalformedJsonError(what, 'HTML', true);
    const at = /at position (\d+)/.exec(message);
    if (/Unexpected end of JSON input/.test(message) || (at && Number(at[1]) >= text.length)) {
      throw new ResponseCutShortError(what, `its JSON breaks off after ${Buffer.byteLength(body)} bytes`);
    }
    throw new MalformedJsonError(what, at ? `broken at byte ${at[1]} of ${Buffer.byteLength(body)}` : 'it does not parse');
  }
}

/** The server's own words, short: `{"message": ...}`, UCP's `{"errors":[{"message"}]}`, or text. */
export function serverMessage(body: string): string {
  let msg = body.trim();
  try {
    const j = JSON.parse(body) as { message?: unknown; errors?: { message?: unknown }[] };
    if (typeof j.message === 'string') msg = j.message;
    else if (Array.isArray(j.errors) && typeof j.errors[0]?.message === 'string') msg = j.errors[0].message;
  } catch {
    // plain text
  }
  msg = msg.replace(/\s+/g, ' ').trim();
  return msg.length > 300 ? `${msg.slice(0, 280).trimEnd()}… (shortened)` : msg;
}
