/**
 * TLS errors of the UCP API client. A changed CA is refused like a changed SSH host key
 * (HostKeyChangedError): it is either an interception or a reinstalled UCP, and only the
 * admin can tell which.
 */
import { UcpApiError } from './errors';

/** What to do about each certificate problem Node reports (its `err.code`). */
const TLS_HINTS: Record<string, string> = {
  ERR_TLS_CERT_ALTNAME_INVALID: 'The certificate is not for this host name: use the name UCP was installed with (its --san list) in --url.',
  CERT_HAS_EXPIRED: "UCP's certificate has expired: renew it on UCP (or check this machine's clock).",
  CERT_NOT_YET_VALID: "UCP's certificate is not valid yet: check this machine's clock.",
};
const UNTRUSTED_HINT =
  'self-signed certificate: see the fingerprint of the CA UCP serves (`ucp-backup api ca --url URL`), check it with UCP\'s admin, then pass --pin-sha256 FINGERPRINT (or --ca FILE).';

export class TlsError extends UcpApiError {
  constructor(detail: string, readonly code?: string, options?: { cause?: unknown; hint?: string }) {
    super(`TLS check of the UCP certificate failed: ${detail}.`, options?.hint ?? ((code && TLS_HINTS[code]) || UNTRUSTED_HINT), undefined, 2, options);
  }
}

/** The pinned (or --ca, --pin-sha256) CA is not the one UCP serves now. */
export class CaChangedError extends TlsError {
  constructor(readonly host: string, readonly pinned: readonly string[], readonly served: readonly string[]) {
    super(
      `the CA of UCP at ${host} has changed (now SHA-256 ${served.join(', ')}; trusted: ${pinned.join(', ')}); refusing to connect. ` +
        'Someone could be intercepting the connection, or UCP\'s CA was just replaced',
      'CA_CHANGED',
      { hint: 'If the change is expected (UCP reinstalled, CA rotated), check the new fingerprint with UCP\'s admin, then trust it instead of the old one (CLI: --pin-sha256 NEW or a new --ca file; VS Code asks again once the old pin is removed).' },
    );
  }
}

/** No CA trusted yet for this UCP and the admin has not (yet) agreed to the one it serves. */
export class CaNotTrustedError extends TlsError {
  constructor(readonly host: string, readonly served: readonly string[], readonly subjects: readonly string[]) {
    super(
      `UCP at ${host} has a certificate of a CA this machine does not trust (${subjects.join(', ')}); the CA it serves at /ca has SHA-256 fingerprint ${served.join(', ')}`,
      'CA_NOT_TRUSTED',
      { hint: `Check that fingerprint with UCP's admin (on a manager, \`openssl x509 -noout -fingerprint -sha256\` of cert.pem in the ucp-cluster-root-ca volume), then pass --pin-sha256 ${served[0] ?? 'FINGERPRINT'} (VS Code asks).` },
    );
  }
}

/** The CA from /ca does not sign the certificate the same host presents: pinning it would not help. */
export class CaDoesNotSignServerError extends TlsError {
  constructor(readonly host: string, detail: string) {
    super(
      `the CA UCP at ${host} serves at /ca does not sign the certificate it presents (${detail})`,
      'CA_DOES_NOT_SIGN',
      { hint: 'A proxy may stand between here and UCP, or UCP uses a certificate of another CA: ask UCP\'s admin for that CA and pass it with --ca FILE.' },
    );
  }
}

/** Said wherever certificate checks are turned off, before anything is sent. */
export const INSECURE_WARNING =
  "warning: UCP's certificate is not checked (--insecure): anyone on the network path can read the password and token and forge UCP's answers. Pin UCP's CA instead (--pin-sha256).";
