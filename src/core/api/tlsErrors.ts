/** TLS errors of the UCP API client: what failed and what to do about it. */
import { UcpApiError } from './errors';

/** What to do about each certificate problem Node reports (its `err.code`). */
const TLS_HINTS: Record<string, string> = {
  ERR_TLS_CERT_ALTNAME_INVALID: 'The certificate is not for this host name: use the name UCP was installed with (its --san list) in --url.',
  CERT_HAS_EXPIRED: "UCP's certificate has expired: renew it on UCP (or check this machine's clock).",
  CERT_NOT_YET_VALID: "UCP's certificate is not valid yet: check this machine's clock.",
};
const UNTRUSTED_HINT = 'self-signed certificate: pass the UCP CA bundle (--ca FILE, from https://<ucp>/ca) or --insecure.';

export class TlsError extends UcpApiError {
  constructor(detail: string, readonly code?: string, options?: { cause?: unknown; hint?: string }) {
    super(`TLS check of the UCP certificate failed: ${detail}.`, options?.hint ?? ((code && TLS_HINTS[code]) || UNTRUSTED_HINT), undefined, 2, options);
  }
}
