/**
 * `ucp-backup prune --keep N`: retention for cron (src/core/history/retention.ts). Prints
 * each record it removes and the files that went with it; exit 1 when some could not be removed.
 */
import type Docker from 'dockerode';
import type { CliCommand } from './common';
import { loadCluster, parse, printJson } from './common';
import { ConfigError, UcpError } from '../core/errors';
import type { ClusterConfig } from '../core/config';
import { SessionPool } from '../core/ssh/sessionPool';
import { connectAny } from '../core/history/anyManager';
import { listBackups } from '../core/history/backupHistory';
import { LocalHistory } from '../core/history/localHistory';
import { executePrune, planPrune, type PruneResult } from '../core/history/retention';

const HELP = `Usage: ucp-backup prune --config FILE [--cluster NAME] --keep N [--name-prefix P]
         [--dry-run] [--json] [--accept-new-host-keys]

Keeps the N newest successful backups, and the failed runs newer than the oldest of them;
removes the older records with their archive and log (a host-path file on its manager, a
local file when this machine wrote it). Records of running backups are never touched.
  --name-prefix P   only backups whose file name starts with P (e.g. the cron job's "nightly-")
  --dry-run         print what would be removed, remove nothing
Exit status: 0 done, 1 some record or file could not be removed, 2 usage.
`;

/** Docker of the manager whose hostname (a record's nodeLocation) is `hostname`. */
function nodeDockers(cluster: ClusterConfig, pool: SessionPool): (hostname: string) => Promise<Docker> {
  const found = new Map<string, Docker>();
  return async (hostname) => {
    const hit = found.get(hostname);
    if (hit) return hit;
    // Config names usually are the hostnames; otherwise ask each manager its name.
    const byName = cluster.nodes.find((n) => n.name === hostname);
    for (const n of byName ? [byName, ...cluster.nodes.filter((x) => x !== byName)] : cluster.nodes) {
      const docker = await pool.get(n).docker().catch(() => undefined);
      const name = docker ? ((await docker.info().catch(() => undefined)) as { Name?: string } | undefined)?.Name : undefined;
      if (name) found.set(name, docker!);
      if (name === hostname) return docker!;
    }
    throw new UcpError(`No configured manager of ${cluster.name} is ${hostname}, or it is unreachable.`, `Add ${hostname} to the cluster's nodes, or retry when it is up.`, 1);
  };
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
    keep: { type: 'string' },
    'name-prefix': { type: 'string' },
    'dry-run': { type: 'boolean' },
    json: { type: 'boolean' },
    'accept-new-host-keys': { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help) {
    io.stdout.write(HELP);
    return 0;
  }
  if (positionals.length) throw new ConfigError(`Unexpected argument "${positionals[0]}".`, 'Run `ucp-backup prune --help`.');
  const keep = Number(values.keep);
  if (!values.keep || !Number.isInteger(keep) || keep < 1) throw new ConfigError(`--keep must be a whole number of 1 or more, not "${values.keep ?? ''}".`, 'Say how many successful backups to keep, e.g. --keep 7.');
  const dryRun = !!values['dry-run'];
  const cluster = await loadCluster(values.config, values.cluster);
  const pool = new SessionPool({ acceptUnknownHostKeys: values['accept-new-host-keys'] });
  try {
    const { docker, warning } = await connectAny(cluster, pool);
    if (!docker) throw new UcpError(`Cannot reach any manager of ${cluster.name}; nothing was pruned.`, warning, 1);
    const local = new LocalHistory();
    const mine = new Set((await local.list(cluster.name)).map((r) => r.id));
    const plan = planPrune(await listBackups(cluster, docker, local), { keep, namePrefix: values['name-prefix'], mine });
    const results: PruneResult[] = dryRun ? plan.remove : await executePrune(plan, { docker, dockerForNode: nodeDockers(cluster, pool), local });
    if (values.json) {
      printJson(io, { dryRun, kept: plan.keep.length, removed: results.filter((r) => !r.error), failed: results.filter((r) => r.error) });
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
