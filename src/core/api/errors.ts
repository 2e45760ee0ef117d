/**
 * Errors of the UCP API client. Each says what happened and what to do; exit codes are the
 * CLI's contract (docs/api.md): 1 the call or backup failed, 2 usage/config, 3 another backup
 * is running, 4 no such backup. TLS and CA errors are in tlsErrors.ts.
 */
import { CancelledError, UcpError } from '../errors';

export class UcpApiError extends UcpError {
  constructor(message: string, hint?: string, readonly status?: number, exitCode = 1, options?: { cause?: unknown }) {
    super(message, hint, exitCode, options);
  }
}

/**
 * Ends text from elsewhere (the server's words) as a sentence, so that our hint after it reads
 * "… is running. Only one backup …", never "… is running Only one …" nor "….." .
 */
export function asSentence(text: string): string {
  const t = text.trim();
  return /[.!?]$/.test(t) ? t : `${t}.`;
}

/** 401: no token, a wrong password, or a token UCP no longer accepts. */
export class AuthenticationError extends UcpApiError {
  constructor(
    message = 'UCP rejected the credentials (401).',
    hint = 'The token may have expired: log in again (`ucp-backup api login`) and retry, or give the password (--username with --password-file) so the token is renewed by itself.',
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
    super(`UCP rejected the backup request as malformed (400): ${asSentence(serverMessage || 'no reason given')}`, 'Check --file-name, --host-path and the passphrase options.', 400, 2);
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
    super(`UCP refused the backup: ${asSentence(serverMessage)}`, 'Only one backup may run at a time: wait for the running one (`ucp-backup api backups`) and retry.', 500, 3);
  }
}

/** 500 (or any other unexpected status). */
export class ServerError extends UcpApiError {
  constructor(status: number, serverMessage: string) {
    super(serverMessage ? `UCP answered ${status}: ${asSentence(serverMessage)}` : `UCP answered ${status} without a message.`, 'See the UCP controller logs (ucp-controller) for the cause.', status);
  }
}

/** An answer the client cannot use: not the schema, not JSON, or cut short. */
export class UnusableResponseError extends UcpApiError {}

/** A 200 whose body does not follow the spec's schema: never trust the server blindly. */
export class InvalidResponseError extends UnusableResponseError {
  constructor(what: string) {
    super(`UCP answered with data that does not follow the backup schema: ${asSentence(what)}`, 'Is --url the UCP controller? Compare its version with the documented API.');
  }
}

/** The whole body arrived, but it is not JSON. */
export class MalformedJsonError extends UnusableResponseError {
  constructor(what: string, detail: string, readonly looksLikeHtml = false) {
    super(
      looksLikeHtml ? `UCP's answer to ${what} is an HTML page, not JSON.` : `UCP's answer to ${what} is not valid JSON (${detail}).`,
      looksLikeHtml ? 'A proxy or login page may answer instead of UCP: point --url at the UCP controller itself.' : 'See the UCP controller logs (ucp-controller); a proxy in between may have altered the answer.',
    );
  }
}

/** The answer stopped early: the connection closed before the promised length, or the JSON breaks off. */
export class ResponseCutShortError extends UnusableResponseError {
  constructor(what: string, detail: string) {
    super(`UCP's answer to ${what} was cut short: ${asSentence(detail)}`, 'Retry; if it keeps happening, a proxy or load balancer between here and UCP may be cutting long answers (check its timeouts and size limits).');
  }
}

export class ConnectionError extends UcpApiError {
  constructor(detail: string, options?: { cause?: unknown; hint?: string }) {
    super(
      `Cannot reach the UCP API: ${asSentence(detail)}`,
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

/** The admin stopped waiting for a backup: UCP has no cancel in its API, so the backup goes on. */
export class WaitCancelledError extends CancelledError {
  override readonly hint: string;
  constructor(readonly backupId: string) {
    super(`Stopped waiting for backup ${backupId}; it goes on in UCP (the API cannot cancel it).`);
    this.hint = `See how it ends with \`ucp-backup api get ${backupId}\`.`;
  }
}
