/**
 * The API client's errors as an admin in VS Code reads them: the core's message (the server's
 * words included) and what to do *here* — the core's hints name CLI flags (--url,
 * --pin-sha256, --password-file) that mean nothing in the editor. No `vscode` import.
 */
import { AnotherBackupRunningError, AuthenticationError, BackupNotFoundError, ConnectionError, MalformedRequestError, ServerError, UnusableResponseError, WaitCancelledError } from '../../core/api/errors';
import { CaChangedError, CaDoesNotSignServerError, CaNotTrustedError, TlsError } from '../../core/api/tlsErrors';
import { describeError, UcpError } from '../../core/errors';

const URL_SETTING = "the cluster's ucpUrl (setting ucpBackup.clusters)";

/** What to do about `err` in VS Code; undefined keeps the core's own hint. */
function vscodeHint(err: UcpError): string | undefined {
  if (err instanceof CaChangedError) {
    return "If the change is expected (UCP reinstalled, CA rotated), check the new fingerprint with UCP's admin, then remove the cluster (UCP: Remove Cluster forgets the pinned CA) and add it again.";
  }
  if (err instanceof CaNotTrustedError) return "Add the cluster again (UCP: Add Cluster) and compare the fingerprint it shows with UCP's admin before trusting it.";
  if (err instanceof CaDoesNotSignServerError) return "A proxy may stand between here and UCP, or UCP uses a certificate of another CA: ask UCP's admin.";
  if (err instanceof TlsError) return err.hint?.includes('--') ? `Check ${URL_SETTING}: use the name UCP was installed with.` : undefined;
  if (err instanceof AuthenticationError) {
    if (isRejectedLogin(err)) return 'Check the user name and the password: VS Code asks for the password again on the next try (the stored one was forgotten).';
    // The bundle's and the "login works, the token does not" hints name no CLI flags.
    if (/client bundle|just issued|new token too/.test(err.message)) return undefined;
    return "Check the cluster's UCP user (ucpUsername) and that it is a UCP administrator; to change the password, remove the cluster and add it again.";
  }
  if (err instanceof MalformedRequestError) return 'Check the folder (an absolute path on the managers, owned by nobody:nogroup) and the file name (a plain name like backup1.tar); a passphrase needs 12 or more characters.';
  if (err instanceof AnotherBackupRunningError) return 'Only one backup may run at a time: wait until the running one in the Backups list ends, then run Backup Now again.';
  if (err instanceof BackupNotFoundError) return 'It may have been removed from UCP: refresh the UCP Backup view.';
  if (err instanceof ServerError) return 'See the ucp-controller logs on the managers for the cause, then retry.';
  if (err instanceof WaitCancelledError) return 'The Backups list shows how it ends.';
  if (err instanceof ConnectionError || err instanceof UnusableResponseError) return err.hint?.replace(/--url/g, URL_SETTING);
  return undefined;
}

/** One line for a notification, the tree or the log: message, then the VS Code hint. */
export function describeApiError(err: unknown): string {
  if (!(err instanceof UcpError)) return describeError(err);
  const hint = vscodeHint(err) ?? err.hint;
  return hint ? `${err.message} ${hint}` : err.message;
}

/** A login (or renewal login) UCP refused: the stored password is wrong and must be asked again. */
export function isRejectedLogin(err: unknown): boolean {
  return err instanceof AuthenticationError && /rejected the login|was refused/.test(err.message);
}
