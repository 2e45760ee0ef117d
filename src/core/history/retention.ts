/**
 * Carrying out a retention plan (src/core/retention/plan.ts says what goes and why, files
 * included): files first, then the swarm record and this machine's one.
 */
import type Docker from 'dockerode';
import { deleteBackupFiles } from '../docker/hostFiles';
import { describeError } from '../errors';
import { removeClusterRecord } from './clusterHistory';
import { LocalHistory } from './localHistory';
import type { BackupRecord } from './record';
import { planRetention, type PrunePlan, type PrunePlanItem } from '../retention/plan';

export type { PrunePlan, PrunePlanItem } from '../retention/plan';

/** `prune --keep N`: the N newest successful backups (`--keep-last N` of the policy). */
export function planPrune(records: readonly BackupRecord[], opts: { keep: number; namePrefix?: string; mine: ReadonlySet<string> }): PrunePlan {
  return planRetention(records, { policy: { last: opts.keep }, namePrefix: opts.namePrefix, mine: opts.mine });
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
