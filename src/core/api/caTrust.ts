/**
 * Trusting a UCP's own CA, as SSH trusts host keys: UCP serves its cluster CA at
 * `https://<ucp>/ca`; the admin is shown its SHA-256 fingerprint and agrees (or gives the
 * fingerprint up front), the CA is pinned in a store, and from then on only that CA is
 * trusted for that UCP. A different CA later is refused (CaChangedError), never re-pinned
 * silently. The store is an interface so VS Code can keep pins in its own storage.
 */
import { X509Certificate } from 'node:crypto';
import https from 'node:https';
import { isIP } from 'node:net';
import tls from 'node:tls';
import { CancelledError, ConfigError } from '../errors';
import { ConnectionError } from './errors';
import { CaChangedError, CaDoesNotSignServerError, CaNotTrustedError } from './tlsErrors';

export interface CaCertificate {
  subject: string;
  /** As `openssl x509 -fingerprint -sha256` prints it: "AB:CD:…". */
  sha256: string;
  pem: string;
}

/** What is kept per UCP (keyed by URL origin, https://host:port). */
export interface CaPin {
  sha256: string[];
  pem: string;
  pinnedAt: string;
}

export interface CaPinStore {
  get(origin: string): Promise<CaPin | undefined>;
  set(origin: string, pin: CaPin): Promise<void>;
}

export class MemoryCaPinStore implements CaPinStore {
  readonly pins = new Map<string, CaPin>();
  async get(origin: string): Promise<CaPin | undefined> {
    return this.pins.get(origin);
  }
  async set(origin: string, pin: CaPin): Promise<void> {
    this.pins.set(origin, pin);
  }
}

/** What the admin is asked to agree to. */
export interface CaOffer {
  origin: string;
  certificates: CaCertificate[];
}

/** True to pin the offered CA. VS Code asks in a modal; the CLI compares with --pin-sha256. */
export type CaConsent = (offer: CaOffer) => Promise<boolean>;

/**
 * The certificates of a PEM bundle. Node silently ignores a "bundle" without certificates and
 * the admin would only see an untrusted-certificate error, so none is an error here.
 */
export function parseCaBundle(pem: string, where: string): CaCertificate[] {
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----/g) ?? [];
  const certs: CaCertificate[] = [];
  for (const block of blocks) {
    try {
      const x = new X509Certificate(block);
      certs.push({ subject: x.subject.replace(/\n/g, ', '), sha256: x.fingerprint256, pem: block });
    } catch {
      // a damaged block: reported below if nothing usable is left
    }
  }
  if (certs.length === 0) {
    throw new ConfigError(`${where} holds no PEM certificate.`, 'Pass the CA bundle UCP serves at https://<ucp-host>/ca (PEM, "-----BEGIN CERTIFICATE-----").');
  }
  return certs;
}

/** "sha256:abcd…", "AB:CD:…" or plain hex → "AB:CD:…". */
export function normalizeFingerprint(text: string): string {
  const hex = text.trim().replace(/^sha256[:=]?/i, '').replace(/[:\s]/g, '').toUpperCase();
  if (!/^[0-9A-F]{64}$/.test(hex)) {
    throw new ConfigError(`"${text}" is not a SHA-256 fingerprint.`, 'Give the 64 hex digits (colons allowed) that `ucp-backup api ca --url URL` prints.');
  }
  return hex.match(/../g)!.join(':');
}

export interface FetchCaOptions {
  signal?: AbortSignal;
  timeoutMs?: number;
}

/**
 * GET /ca without checking the certificate: that is what the fingerprint consent is for. Only
 * public data travels (no token, no password), and nothing is trusted until the admin agrees.
 */
export async function fetchServedCa(url: URL, opts: FetchCaOptions = {}): Promise<CaCertificate[]> {
  const body = await new Promise<string>((resolve, reject) => {
    const req = https.request(new URL('/ca', url), { method: 'GET', rejectUnauthorized: false, timeout: opts.timeoutMs ?? 15_000, signal: opts.signal, agent: false }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => {
        text += d;
        if (text.length > 1024 * 1024) req.destroy(new ConnectionError(`${url.host}/ca answered more than 1 MiB`));
      });
      res.on('end', () => (res.statusCode === 200 ? resolve(text) : reject(new ConnectionError(`${url.host}/ca answered ${res.statusCode}, not UCP's CA bundle`))));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new ConnectionError(`${url.host}/ca did not answer`)));
    req.on('error', (err) => reject(err instanceof ConnectionError ? err : new ConnectionError(`fetching ${url.host}/ca: ${err.message}`, { cause: err })));
    req.end();
  });
  return parseCaBundle(body, `The answer of ${url.host}/ca`);
}

/** Whether the certificate `url` presents chains to `caPem` (the host name is checked per request). */
export function checkCaSignsServer(url: URL, caPem: string, signal?: AbortSignal): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({
      host: url.hostname,
      port: Number(url.port || 443),
      servername: isIP(url.hostname) ? undefined : url.hostname,
      ca: caPem,
      rejectUnauthorized: false,
    });
    signal?.addEventListener('abort', () => socket.destroy(new CancelledError()), { once: true });
    socket.setTimeout(15_000, () => socket.destroy(new ConnectionError(`${url.host} did not complete the TLS handshake`)));
    socket.once('secureConnect', () => {
      const error = socket.authorized ? undefined : String(socket.authorizationError);
      socket.end();
      resolve(error);
    });
    socket.once('error', (err) => reject(err instanceof ConnectionError || err instanceof CancelledError ? err : new ConnectionError(`${url.host}: ${err.message}`, { cause: err })));
  });
}

/** What to trust for `url`: the pinned CA, or (after consent) the one it serves now, pinned. */
export async function trustUcpCa(url: URL, store: CaPinStore, consent: CaConsent, signal?: AbortSignal): Promise<string> {
  const pinned = await store.get(url.origin);
  if (pinned) return pinned.pem;
  const certificates = await fetchServedCa(url, { signal });
  const pem = certificates.map((c) => c.pem).join('\n') + '\n';
  const unsigned = await checkCaSignsServer(url, pem, signal);
  if (unsigned) throw new CaDoesNotSignServerError(url.host, unsigned);
  if (!(await consent({ origin: url.origin, certificates }))) {
    throw new CaNotTrustedError(url.host, certificates.map((c) => c.sha256), certificates.map((c) => c.subject));
  }
  await store.set(url.origin, { sha256: certificates.map((c) => c.sha256), pem, pinnedAt: new Date().toISOString() });
  return pem;
}

/** Consent given up front, as a fingerprint (CLI --pin-sha256): any other CA is a changed CA. */
export function consentToFingerprint(fingerprint: string): CaConsent {
  const want = normalizeFingerprint(fingerprint);
  return async (offer) => {
    const served = offer.certificates.map((c) => c.sha256);
    if (!served.includes(want)) throw new CaChangedError(new URL(offer.origin).host, [want], served);
    return true;
  };
}

/**
 * After a handshake failed as untrusted: says why, from what /ca serves now. A trusted CA
 * other than the served one is a changed CA; nothing trusted yet names the served fingerprint.
 * Undefined when /ca cannot tell (the original TLS error then stands).
 */
export async function explainUntrustedCertificate(url: URL, trustedPem: string | undefined, signal?: AbortSignal): Promise<Error | undefined> {
  let served: CaCertificate[];
  try {
    served = await fetchServedCa(url, { signal, timeoutMs: 10_000 });
  } catch {
    return undefined;
  }
  const servedFps = served.map((c) => c.sha256);
  if (trustedPem === undefined) return new CaNotTrustedError(url.host, servedFps, served.map((c) => c.subject));
  let trusted: string[];
  try {
    trusted = parseCaBundle(trustedPem, 'the trusted CA').map((c) => c.sha256);
  } catch {
    return undefined;
  }
  if (!servedFps.some((fp) => trusted.includes(fp))) return new CaChangedError(url.host, trusted, servedFps);
  return undefined;
}
