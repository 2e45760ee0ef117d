/**
 * What a prune would do to a cluster's records under a policy, and why, record by record: the
 * preview (`prune --dry-run`, VS Code's "Apply Retention…") and the input of executePrune.
 *
 * - Successful backups go through the policy (./policy.ts).
 * - The newest successful, verified backup always stays, whatever the policy says: a policy
 *   typo must never leave a cluster without its last good backup.
 * - Failed runs newer than the oldest kept backup stay (recent failures are news); older ones go.
 *   A run of failures therefore never pushes out good backups.
 * - Running backups are never touched.
 * Files go with a record only when they are certainly its own (see planFiles).
 */
import type { BackupRecord } from '../history/record';
import { applyPolicy, checkPolicy, describePolicy, newestFirst, type RetentionPolicy } from './policy';
import { checkTimeZone, machineTimeZone } from './periods';

export const NEWEST_VERIFIED = 'newest verified backup (never removed)';
export const NEWEST_SUCCESS = 'newest successful backup (never removed; none is verified)';

/**
 * A backup counts as verified when it succeeded and its record carries the archive's SHA-256
 * and size, taken as the file was written (what a copy or a later verify is checked against).
 */
export function isVerified(r: BackupRecord): boolean {
  return r.backupState === 'SUCCESS' && typeof r.sha256 === 'string' && /^[0-9a-f]{64}$/.test(r.sha256) && typeof r.size === 'number';
}

export interface KeptItem {
  record: BackupRecord;
  reasons: string[];
}

export interface PrunePlanItem {
  record: BackupRecord;
  /** Why it goes. */
  reason: string;
  /** Files that go with the record (`node:` prefixed for host-path backups); empty: record only. */
  files: string[];
  /** Why files stay although the record goes. */
  note?: string;
}

export interface PrunePlan {
  /** Oldest first: the order they are removed in. */
  remove: PrunePlanItem[];
  /** Newest first, with the reasons each stays. */
  kept: KeptItem[];
  /** The kept records (newest first). */
  keep: BackupRecord[];
  /** Running backups: never candidates. */
  running: BackupRecord[];
  policy: string;
  timeZone: string;
}

export interface PlanOptions {
  policy: RetentionPolicy;
  /** Only backups whose file name starts with this (a schedule's own backups). */
  namePrefix?: string;
  /** Only backups in this place: a local folder, or NODE:DIR for a host path. */
  destination?: string;
  /** Ids in this machine's local history: a local file is only removed where it was written. */
  mine: ReadonlySet<string>;
  /** IANA zone whose days, weeks and months count (default: this machine's). */
  timeZone?: string;
}

function place(r: BackupRecord): string {
  return r.location === 'host' ? `${r.nodeLocation}:${r.backupPath}` : r.backupPath;
}

function sameFile(a: BackupRecord, b: BackupRecord, name: string): boolean {
  return a.location === b.location && a.backupPath === b.backupPath && (a.location === 'local' || a.nodeLocation === b.nodeLocation) && (b.fileName === name || b.logFileName === name);
}

function where(r: BackupRecord, name: string): string {
  return `${r.location === 'host' ? `${r.nodeLocation}:` : ''}${r.backupPath}/${name}`;
}

/**
 * A FAILED run never published a file (a file at its name belongs to another backup, e.g. the
 * one it refused to overwrite); a name a kept record also uses was overwritten by that newer
 * backup; a local file is only removed on the machine that wrote it.
 */
function planFiles(record: BackupRecord, keep: readonly BackupRecord[], mine: ReadonlySet<string>): { files: string[]; note?: string } {
  if (record.backupState !== 'SUCCESS') return { files: [] };
  const names = [record.fileName, record.logFileName].filter(Boolean);
  const shared = names.filter((n) => keep.some((k) => sameFile(record, k, n)));
  if (shared.length) return { files: [], note: `${shared.map((n) => where(record, n)).join(', ')} now holds a newer backup that is kept` };
  if (record.location === 'local' && !mine.has(record.id)) return { files: [], note: 'the file is on the machine that wrote it, not this one' };
  return { files: names.map((n) => where(record, n)) };
}

export function planRetention(records: readonly BackupRecord[], opts: PlanOptions): PrunePlan {
  const policy = checkPolicy(opts.policy);
  const timeZone = checkTimeZone(opts.timeZone ?? machineTimeZone());
  const inScope = newestFirst(records.filter((r) => (!opts.namePrefix || r.fileName.startsWith(opts.namePrefix)) && (!opts.destination || place(r) === opts.destination.replace(/\/+$/, ''))));
  const running = inScope.filter((r) => r.backupState === 'IN_PROGRESS');
  const done = inScope.filter((r) => r.backupState !== 'IN_PROGRESS');
  const reasons = new Map<BackupRecord, string[]>();
  for (const d of applyPolicy(done.filter((r) => r.backupState === 'SUCCESS'), policy, timeZone)) if (d.keep) reasons.set(d.item, d.reasons);

  const guard = done.find(isVerified) ?? done.find((r) => r.backupState === 'SUCCESS');
  if (guard) reasons.set(guard, [...(reasons.get(guard) ?? []), isVerified(guard) ? NEWEST_VERIFIED : NEWEST_SUCCESS]);

  const keptSuccesses = done.filter((r) => reasons.has(r));
  const oldestKept = keptSuccesses[keptSuccesses.length - 1];
  const removeReason = new Map<BackupRecord, string>();
  for (const r of done) {
    if (r.backupState === 'SUCCESS') {
      if (!reasons.has(r)) removeReason.set(r, `not the newest backup of any period the policy (${describePolicy(policy)}) keeps`);
    } else if (!oldestKept || newestFirst([r, oldestKept])[0] === r) {
      reasons.set(r, [oldestKept ? 'failed run newer than the oldest kept backup' : 'failed run (no successful backup to compare with)']);
    } else {
      removeReason.set(r, 'failed run older than every kept backup');
    }
  }
  const keep = done.filter((r) => reasons.has(r));
  const remove = done
    .filter((r) => removeReason.has(r))
    .reverse()
    .map((record): PrunePlanItem => ({ record, reason: removeReason.get(record)!, ...planFiles(record, keep, opts.mine) }));
  return { remove, keep, kept: keep.map((record) => ({ record, reasons: reasons.get(record)! })), running, policy: describePolicy(policy), timeZone };
}
