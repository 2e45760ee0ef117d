/** Typed errors of a backup run; each tells the admin what to do next. */
import { UcpError } from '../errors';

/** The spec: "the second backup failed because another backup is running". CLI exit 3. */
export class BackupRunningError extends UcpError {
  constructor(
    readonly holder: { owner: string; host: string; node: string; since: string; backupId?: string },
    hint = 'Wait for it to finish. If it crashed, its lock expires a minute after its last renewal and the next backup takes it over (or run `ucp-backup break-lock` once it looks stale).',
  ) {
    super(
      `The backup failed because another backup is running: started by ${holder.owner} on ${holder.host} against node ${holder.node} since ${holder.since}${holder.backupId ? ` (backup ${holder.backupId})` : ''}.`,
      hint,
      3,
    );
  }
}

/** A lock whose owner looks gone (old heartbeat, or its process is dead) before its lease is up. */
export class StaleLockError extends BackupRunningError {
  constructor(holder: BackupRunningError['holder'], reason: string) {
    super(holder, `That lock looks stale (${reason}). Once its lease runs out the next backup takes it over; if no backup is really running, run \`ucp-backup break-lock --config F --cluster C\` now.`);
  }
}

/**
 * The swarm has no leader (more than half of its managers are down): the backup lock and the
 * history live in the swarm, so no backup can start, and a running one cannot publish.
 */
export class SwarmQuorumError extends UcpError {
  constructor() {
    super(
      'The swarm has no leader: too few of its managers are online, and the backup lock and history live in the swarm, so the backup cannot run (nothing was published).',
      'Bring managers back until more than half of them are online (`docker node ls` on a manager answers again), then run the backup again. A lock left by a run cut off this way expires with its lease.',
      1,
    );
  }
}

/** Docker's answer when raft has no quorum, as the admin's error; undefined for anything else. */
export function swarmQuorumError(err: unknown): SwarmQuorumError | undefined {
  const text = err instanceof Error ? err.message : String(err ?? '');
  return /does not have a leader|too few managers are online/i.test(text) ? new SwarmQuorumError() : undefined;
}

/** The destination's file system filled up during the write (ENOSPC/EDQUOT, or `cat` saying so). */
export class DestinationFullError extends UcpError {
  constructor(dir: string, where: string) {
    super(`No space left on ${where} in ${dir}: the backup did not fit, and nothing was published.`, 'Free space on the file system that holds that folder (old backups there: `ucp-backup prune`), or choose another destination, then run the backup again.', 1);
  }
}

/** The destination folder disappeared while the backup was written into it. */
export class DestinationGoneError extends UcpError {
  constructor(dir: string, where: string) {
    super(`The backup folder ${dir} on ${where} was removed while the backup ran; nothing was published.`, 'Create the folder again (for a host path: writable by the nobody user) and run the backup again.', 1);
  }
}

/** What a write error means for the admin: a full disk and a removed folder get their own words. */
export function destinationWriteError(err: unknown, dir: string, where: string): Error | undefined {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  const text = err instanceof Error ? err.message : String(err ?? '');
  if (code === 'ENOSPC' || code === 'EDQUOT' || /no space left on device|disk quota exceeded/i.test(text)) return new DestinationFullError(dir, where);
  return undefined;
}

export class DestinationNotWritableError extends UcpError {
  constructor(dir: string, node: string, detail = 'it is not writable by the nobody user') {
    super(`Cannot write the backup to ${dir} on ${node}: ${detail}.`, `Run once on that node: sudo chown nobody:nogroup ${dir}`, 1);
  }
}

export class DestinationExistsError extends UcpError {
  constructor(path: string) {
    super(`A backup file named ${path} already exists.`, 'Give each backup a different name (the spec), or pass --overwrite to replace it.', 1);
  }
}

export class NotAManagerError extends UcpError {
  constructor(node: string, detail: string) {
    super(`Node ${node} is not a swarm manager: ${detail}.`, 'Back up from a UCP manager node; UCP stores the same data on all managers.', 1);
  }
}

export class UcpNotFoundError extends UcpError {
  constructor(node: string, detail: string) {
    super(`UCP was not found on ${node}: ${detail}.`, 'Check that UCP is installed and its containers (ucp-kv, ucp-auth-store, ucp-controller) exist on this manager.', 1);
  }
}

export class WeakPassphraseError extends UcpError {
  constructor(length: number) {
    super(`The passphrase has ${length} characters; UCP requires at least 12.`, 'Use a passphrase of 12 or more characters (like the spec\'s "secret12chars"), or --no-passphrase.', 2);
  }
}

/** The official image is asked for but not present. */
export class OfficialImageMissingError extends UcpError {
  constructor(node: string, wanted: string[]) {
    super(`No official UCP image (${wanted.join(' or ')}) is on ${node}.`, 'Pull the image matching the cluster\'s UCP version on that node, or use --engine builtin.', 1);
  }
}

/** A step of the backup failed; the message names the step. */
export class BackupStepError extends UcpError {
  constructor(step: string, detail: string, hint?: string, options?: { cause?: unknown }) {
    super(`Backup step "${step}" failed: ${detail}`, hint, 1, options);
  }
}
