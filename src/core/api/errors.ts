/**
 * Errors of the UCP API client. Each says what happened and what to do; exit codes are the
 * CLI's contract (docs/api.md): 1 the call or backup failed, 2 usage/config, 3 another backup
 * is running, 4 no such backup.
 */
import { UcpError } from '../errors';

export class UcpApiError extends UcpError {
  constructor(message: string, hint?: string, readonly status?: number, exitCode = 1, options?: { cause?: unknown }) {
    super(message, hint, exitCode, options);
  }
}

/** 401: no token, a wrong password, or a token UCP no longer accepts. */
export class AuthenticationError extends UcpApiError {
  constructor(
    message = 'UCP rejected the credentials (401).',
    hint = 'The token may have expired: log in again (`ucp-backup api login`) and retry.',
  ) {
    super(message, hint, 401, 2);
  }
}

/** 403: spec, "You must be a UCP administrator to access these API endpoints." */
export class ForbiddenError extends UcpApiError {
  constructor() {
    super('UCP refused the request: this user is not allowed to manage backups (403).', 'The backup API needs a UCP administrator account.', 403, 2);
  }
}

/** 400: spec, "Malformed request (payload fails validation)". */
export class MalformedRequestError extends UcpApiError {
  constructor(serverMessage: string) {
    super(`UCP rejected the backup request as malformed (400): ${serverMessage}`, 'Check --file-name, --host-path and the passphrase options.', 400, 2);
  }
}

/** 404 from GET /api/ucp/backup/{id}. */
export class BackupNotFoundError extends UcpApiError {
  constructor(readonly backupId: string) {
    super(`UCP has no backup with ID ${backupId} (404).`, 'List the IDs with `ucp-backup api backups`.', 404, 4);
  }
}

/** Spec: "a message is displayed to indicate that the second backup failed because another backup is running". */
export class AnotherBackupRunningError extends UcpApiError {
  constructor(serverMessage: string) {
    super(`UCP refused the backup: ${serverMessage}`, 'Only one backup may run at a time: wait for the running one (`ucp-backup api backups`) and retry.', 500, 3);
  }
}

/** 500 (or any other unexpected status). */
export class ServerError extends UcpApiError {
  constructor(status: number, serverMessage: string) {
    super(`UCP answered ${status}: ${serverMessage || '(no message)'}`, 'See the UCP controller logs (ucp-controller) for the cause.', status);
  }
}

/** A 200 whose body does not follow the spec's schema: never trust the server blindly. */
export class InvalidResponseError extends UcpApiError {
  constructor(what: string) {
    super(`UCP answered with data that does not follow the backup schema: ${what}`, 'Is --url the UCP controller? Compare its version with the documented API.');
  }
}

/** What to do about each certificate problem Node reports (its `err.code`). */
const TLS_HINTS: Record<string, string> = {
  ERR_TLS_CERT_ALTNAME_INVALID: 'The certificate is not for this host name: use the name UCP was installed with (its --san list) in --url.',
  CERT_HAS_EXPIRED: "UCP's certificate has expired: renew it on UCP (or check this machine's clock).",
  CERT_NOT_YET_VALID: "UCP's certificate is not valid yet: check this machine's clock.",
};
const UNTRUSTED_HINT = 'self-signed certificate: pass the UCP CA bundle (--ca FILE, from https://<ucp>/ca) or --insecure.';

export class TlsError extends UcpApiError {
  constructor(detail: string, code?: string, options?: { cause?: unknown }) {
    super(`TLS check of the UCP certificate failed: ${detail}.`, (code && TLS_HINTS[code]) || UNTRUSTED_HINT, undefined, 2, options);
  }
}

export class ConnectionError extends UcpApiError {
  constructor(detail: string, options?: { cause?: unknown; hint?: string }) {
    super(
      `Cannot reach the UCP API: ${detail}.`,
      options?.hint ?? 'Check --url (https://<ucp-host>[:port], 443 unless UCP was installed with --controller-port) and that ucp-controller is running.',
      undefined,
      1,
      options,
    );
  }
}

export class ApiTimeoutError extends UcpApiError {
  constructor(ms: number) {
    super(`The UCP API did not answer within ${Math.round(ms / 1000)} s.`, 'Check the network to UCP, or retry later.');
  }
}
