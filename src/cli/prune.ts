/**
 * `ucp-backup prune`: policy retention for cron (src/core/retention/plan.ts decides,
 * src/core/history/retention.ts removes). Prints each record it removes and the files that
 * went with it; --dry-run prints every record with what would happen to it and why.
 * Exit 1 when some could not be removed.
 */
import { resolve } from 'node:path';
import type { CliCommand, CliIO } from './common';
import { loadCluster, parse, printJson } from './common';
import { ConfigError, UcpError } from '../core/errors';
import { SessionPool } from '../core/ssh/sessionPool';
import { connectAny } from '../core/history/anyManager';
import { listBackups } from '../core/history/backupHistory';
import { LocalHistory } from '../core/history/localHistory';
import { executePrune, type PruneResult } from '../core/history/retention';
import { describePlan, planRetention } from '../core/retention';
import { managerByHostname } from '../core/history/managerByHostname';
import { POLICY_OPTIONS, policyFrom } from './policyOptions';
import type { RetentionPolicy } from '../core/retention';
import type { BackupRecord } from '../core/history/record';
import { describeCopyPlan, executeCopyPrune, planCopyRetention, type CopyPlanItem, type CopyPruneDeps } from '../core/copy/copyRetention';

const HELP = `Usage: ucp-backup prune --config FILE [--cluster NAME]
         [--keep-last N] [--keep-daily N] [--keep-weekly N] [--keep-monthly N] [--keep N]
         [--time-zone ZONE] [--name-prefix P] [--destination DIR|NODE:DIR]
         [--dry-run] [--json] [--accept-new-host-keys]
       ucp-backup prune --config FILE [--cluster NAME] --copies-at DEST [--keep-* N ...]
         [--s3-endpoint URL] [--ssh-identity F] [--known-hosts F] [--time-zone ZONE] [--dry-run] [--json]

Keeps successful backups by policy, with restic's semantics: walking from the newest,
--keep-last N keeps the N newest; --keep-daily N the newest backup of each of the N newest
days that have one (days without a backup do not count); weekly (ISO weeks, Monday first)
and monthly likewise. Days, weeks and months are those of --time-zone (default: this
machine's). --keep N is --keep-last N. Without any of these, the cluster's "retention"
policy in the config file is used (e.g. {"daily": 7, "weekly": 4}). The newest successful, verified backup (its SHA-256
recorded) is never removed, whatever the policy says. Failed runs newer than the oldest kept
backup stay; older records go with their archive and log (a host-path file on its manager, a
local file when this machine wrote it). Running backups are never touched.
  --name-prefix P   only backups whose file name starts with P (e.g. a schedule's "nightly-")
  --destination D   only backups in local folder D, or in host path DIR on manager NODE
  --dry-run         print every backup with what would happen to it and why; remove nothing
  --copies-at DEST  prune the off-site copies at DEST instead (sftp://, s3:// or a folder, as
                    given to copy --to): the copies listed in the backups' records, each at its
                    backup's time, by the policy; the newest copy there always stays. A removed
                    copy is deleted at DEST and dropped from its record; backups are untouched.
                    The policy must be given (the cluster's "retention" is for backups).
Exit status: 0 done, 1 some record or file could not be removed, 2 usage.
`;

async function pruneCopies(io: CliIO, to: string, policy: RetentionPolicy, o: CopyPruneDeps & { timeZone?: string; dryRun: boolean; json: boolean }, records: BackupRecord[]): Promise<number> {
  const plan = planCopyRetention(records, to, policy, o.timeZone);
  const results: (CopyPlanItem & { error?: string })[] = o.dryRun ? plan.remove : await executeCopyPrune(plan, o);
  const failed = results.filter((r) => r.error);
  if (o.json) printJson(io, { dryRun: o.dryRun, to: plan.to, policy: plan.policy, timeZone: plan.timeZone, keep: plan.keep, removed: results.filter((r) => !r.error), failed });
  else if (o.dryRun) io.stdout.write(describeCopyPlan(plan));
  else {
    for (const r of results) io.stdout.write(r.error ? `NOT removed copy ${r.copy.location} of ${r.record.id}: ${r.error}\n` : `removed copy ${r.copy.location} of ${r.record.id} (${r.record.created_at})\n`);
    if (!results.length) io.stdout.write(`Nothing to prune at ${plan.to}: ${plan.keep.length} copy(ies) kept.\n`);
  }
  if (failed.length) io.stderr.write(`ucp-backup: ${failed.length} copy(ies) could not be removed; run prune again once the cause is fixed.\n`);
  return failed.length ? 1 : 0;
}

function line(r: PruneResult, dryRun: boolean): string {
  const rec = r.record;
  const what = `${rec.id} ${rec.backupState} ${rec.created_at} ${rec.fileName}`;
  const files = r.files.length ? ` (${r.files.join(', ')})` : r.note ? ` (record only: ${r.note})` : ' (record only)';
  if (r.error) return `NOT removed ${what}: ${r.error}\n`;
  return `${dryRun ? 'would remove' : 'removed'} ${what}${files}\n`;
}

export const command: CliCommand = async (argv, io) => {
  const { values, positionals } = parse(argv, {
    config: { type: 'string' },
    cluster: { type: 'string' },
    ...POLICY_OPTIONS,
    'time-zone': { type: 'string' },
    destination: { type: 'string' },
    'name-prefix': { type: 'string' },
    'dry-run': { type: 'boolean' },
    json: { type: 'boolean' },
    'accept-new-host-keys': { type: 'boolean' },
    'copies-at': { type: 'string' },
    's3-endpoint': { type: 'string' },
    'ssh-identity': { type: 'string' },
    'known-hosts': { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help) {
    io.stdout.write(HELP);
    return 0;
  }
  if (positionals.length) throw new ConfigError(`Unexpected argument "${positionals[0]}".`, 'Run `ucp-backup prune --help`.');
  const cluster = await loadCluster(values.config, values.cluster);
  // Off-site copies keep what is asked for them: the cluster's (on-manager) policy is usually shorter.
  const policy = policyFrom(values, values['copies-at'] ? undefined : cluster.retention)!;
  const dryRun = !!values['dry-run'];
  const pool = new SessionPool({ acceptUnknownHostKeys: values['accept-new-host-keys'] });
  try {
    const { docker, warning } = await connectAny(cluster, pool);
    if (!docker) throw new UcpError(`Cannot reach any manager of ${cluster.name}; nothing was pruned.`, warning, 1);
    const local = new LocalHistory();
    if (values['copies-at']) {
      if (values['name-prefix'] || values.destination) throw new ConfigError('--copies-at prunes copies; --name-prefix and --destination are for backups.', 'Give one or the other.');
      return await pruneCopies(io, values['copies-at'], policy, { docker, local, timeZone: values['time-zone'], dryRun, json: !!values.json, s3: { endpoint: values['s3-endpoint'] }, sftp: { identityFile: values['ssh-identity'] && resolve(values['ssh-identity']), knownHostsFile: values['known-hosts'] && resolve(values['known-hosts']), acceptUnknownHostKeys: values['accept-new-host-keys'] } }, await listBackups(cluster, docker, local));
    }
    const mine = new Set((await local.list(cluster.name)).map((r) => r.id));
    const plan = planRetention(await listBackups(cluster, docker, local), { policy, namePrefix: values['name-prefix'], destination: values.destination, mine, timeZone: values['time-zone'] });
    const results: PruneResult[] = dryRun ? plan.remove : await executePrune(plan, { docker, dockerForNode: managerByHostname(cluster, pool), local });
    if (values.json) {
      printJson(io, { dryRun, policy: plan.policy, timeZone: plan.timeZone, kept: plan.keep.length, keep: plan.kept, running: plan.running, removed: results.filter((r) => !r.error), failed: results.filter((r) => r.error) });
    } else if (dryRun) {
      io.stdout.write(describePlan(plan));
    } else {
      for (const r of results) io.stdout.write(line(r, dryRun));
      if (!results.length) io.stdout.write(`Nothing to prune: ${plan.keep.length} record(s) kept.\n`);
    }
    const failed = results.filter((r) => r.error).length;
    if (failed) io.stderr.write(`ucp-backup: ${failed} record(s) could not be removed; run prune again once the cause is fixed.\n`);
    return failed ? 1 : 0;
  } finally {
    pool.closeAll();
  }
};
