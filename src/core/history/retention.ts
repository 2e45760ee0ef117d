/**
 * Retention for cron (`ucp-backup prune --keep N`): the N newest successful backups stay,
 * with every failure newer than the oldest of them (recent failures are news); older
 * records go, with their files. A run of failures therefore never pushes out good backups,
 * and an IN_PROGRESS record is never touched.
 *
 * Files are removed only when they are certainly that record's: a FAILED run never published
 * a file (a file at its name belongs to another backup, e.g. the one it refused to
 * overwrite), a name a kept record also uses was overwritten by that newer backup, and a
 * local file is only removed on the machine that wrote it (in this machine's history).
 */
import type Docker from 'dockerode';
import { deleteBackupFiles } from '../docker/hostFiles';
import { describeError } from '../errors';
import { removeClusterRecord } from './clusterHistory';
import { LocalHistory } from './localHistory';
import type { BackupRecord } from './record';

export interface PrunePlanItem {
  record: BackupRecord;
  /** Files that go with the record (`node:` prefixed for host-path backups); empty: record only. */
  files: string[];
  /** Why files stay although the record goes. */
  note?: string;
}

export interface PrunePlan {
  remove: PrunePlanItem[];
  keep: BackupRecord[];
}

function sameFile(a: BackupRecord, b: BackupRecord, name: string): boolean {
  return a.location === b.location && a.backupPath === b.backupPath && (a.location === 'local' || a.nodeLocation === b.nodeLocation) && (b.fileName === name || b.logFileName === name);
}

function where(r: BackupRecord, name: string): string {
  return `${r.location === 'host' ? `${r.nodeLocation}:` : ''}${r.backupPath}/${name}`;
}

/** Which records (and files) go. `mine` are the ids in this machine's local history. */
export function planPrune(records: readonly BackupRecord[], opts: { keep: number; namePrefix?: string; mine: ReadonlySet<string> }): PrunePlan {
  const newestFirst = records
    .filter((r) => r.backupState !== 'IN_PROGRESS' && (!opts.namePrefix || r.fileName.startsWith(opts.namePrefix)))
    .sort((a, b) => b.created_at.localeCompare(a.created_at));
  const successes = newestFirst.filter((r) => r.backupState === 'SUCCESS');
  // Not more successes than asked for: nothing to make room for.
  if (opts.keep < 1 || successes.length <= opts.keep) return { remove: [], keep: newestFirst };
  const oldestKept = successes[opts.keep - 1];
  const keep = newestFirst.filter((r) => successes.indexOf(r) >= 0 ? successes.indexOf(r) < opts.keep : r.created_at > oldestKept.created_at);
  const remove = newestFirst
    .filter((r) => !keep.includes(r))
    .reverse()
    .map((record): PrunePlanItem => {
      if (record.backupState !== 'SUCCESS') return { record, files: [] };
      const names = [record.fileName, record.logFileName].filter(Boolean);
      const shared = names.filter((n) => keep.some((k) => sameFile(record, k, n)));
      if (shared.length) return { record, files: [], note: `${shared.map((n) => where(record, n)).join(', ')} now holds a newer backup that is kept` };
      if (record.location === 'local' && !opts.mine.has(record.id)) return { record, files: [], note: 'the file is on the machine that wrote it, not this one' };
      return { record, files: names.map((n) => where(record, n)) };
    });
  return { remove, keep };
}

export interface PruneResult extends PrunePlanItem {
  error?: string;
}

/**
 * Carries out a plan: files first (a file never outlives its record unnoticed), then the
 * cluster record and the local one. One failure does not stop the others; it is reported.
 */
export async function executePrune(
  plan: PrunePlan,
  deps: { docker: Docker; dockerForNode: (nodeLocation: string) => Promise<Docker>; local?: LocalHistory },
): Promise<PruneResult[]> {
  const local = deps.local ?? new LocalHistory();
  const results: PruneResult[] = [];
  for (const item of plan.remove) {
    const { record } = item;
    try {
      if (item.files.length) {
        const docker = record.location === 'host' ? await deps.dockerForNode(record.nodeLocation) : deps.docker;
        await deleteBackupFiles(docker, record, local);
      } else {
        await removeClusterRecord(deps.docker, record.id);
        await local.remove(record.id);
      }
      results.push(item);
    } catch (err) {
      results.push({ ...item, error: describeError(err) });
    }
  }
  return results;
}
