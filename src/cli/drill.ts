/**
 * `ucp-backup drill FILE|NODE:PATH`: proves a backup restores, without touching the cluster
 * (issue 13). The etcd snapshot is restored and served in throwaway containers on a manager
 * from the image its ucp-kv runs (or by the local etcd with --local), the certificates and
 * auth store opened, the version compared with the cluster's (or --target-version). With
 * --config the result is kept in the backup's history record.
 * Exit: 0 no FAIL (WARNs allowed), 1 a FAIL (the report says which row and why), 2 usage
 * or environment (no etcd on PATH with --local).
 */
import type { CliCommand, CliIO } from './common';
import { loadCluster, parse, printJson, readPassphrase } from './common';
import { ConfigError, describeError } from '../core/errors';
import { findNode, type ClusterConfig, type NodeConfig } from '../core/config';
import { drill, type DrillManager, type DrillOptions } from '../core/drill/drill';
import type { DrillReport } from '../core/drill/report';
import { displayName } from '../core/verify/safeName';
import type { SessionPool } from '../core/ssh/sessionPool';

const HELP = `Usage: ucp-backup drill FILE|NODE:PATH --config FILE [--cluster NAME] [--node NODE] [options]
       ucp-backup drill FILE --local [options]

Restore drill: reads the backup once (as verify does), restores its etcd snapshot and starts
an etcd member on it, checks the certificates and the auth store, and compares the UCP
version. By default the etcd runs in throwaway containers on a manager, from the image its
ucp-kv runs (the cluster's own etcd version), with no network; the running cluster is not
touched. The archive is decrypted here: the passphrase never leaves this machine. Nothing
is left running or on disk, also after Ctrl-C or SIGTERM.
  NODE:PATH          a backup file on the manager NODE (e.g. manager1:/var/backups/ucp/backup.tar)
  --node NODE        the manager to run the etcd containers on (default: NODE of NODE:PATH, else
                     the first configured manager that answers)
  --local            restore with the etcd on this machine instead (etcd and etcdutl or etcdctl on PATH)
  --passphrase-file  passphrase of an encrypted backup, from a file or stdin with "-"
  --target-version   UCP version of the cluster it would be restored on (default: the manager's);
                     N+1 is FAIL, other differences WARN
  --record ID        the backup's history record to keep the result in (default: the record
                     whose file this is, when exactly one is)
  --json             print the whole report as JSON
Exit status: 0 no FAIL (WARN allowed), 1 a check FAILed, 2 usage error or no etcd on PATH.
`;

/** "manager1:/var/backups/ucp/b.tar": a node name (no slash) and an absolute path. */
const REMOTE = /^([^/:]+):(\/.*)$/;

export const command: CliCommand = async (argv, io, signal) => {
  const { values, positionals } = parse(argv, {
    config: { type: 'string' },
    cluster: { type: 'string' },
    node: { type: 'string' },
    record: { type: 'string' },
    'passphrase-file': { type: 'string' },
    'target-version': { type: 'string' },
    'accept-new-host-keys': { type: 'boolean' },
    local: { type: 'boolean' },
    json: { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help) {
    io.stdout.write(HELP);
    return 0;
  }
  if (positionals.length !== 1) throw new ConfigError('Give exactly one backup FILE or NODE:PATH.', 'Run `ucp-backup drill --help`.');
  const target = values['target-version'];
  if (target !== undefined && !/^\d+\.\d+\.\d+/.test(target)) throw new ConfigError(`--target-version ${JSON.stringify(target)} is not a UCP version like 3.2.4.`);
  const remote = values.config !== undefined ? REMOTE.exec(positionals[0]) : null;
  if (!values.config) {
    if (!values.local) throw new ConfigError('The restore drill needs a manager to restore the etcd snapshot on, or --local.', 'Give --config FILE [--cluster NAME] [--node NODE], or --local to use the etcd on this machine\'s PATH.');
    if (values.node || values.cluster || values.record) throw new ConfigError('--node, --cluster and --record need --config FILE.');
  }
  const passFile = values['passphrase-file'];
  const options: DrillOptions = {
    // Asked only when the archive turns out to be encrypted.
    passphrase: passFile ? () => readPassphrase(passFile, io) : undefined,
    local: !!values.local,
    targetVersion: target,
    signal,
  };
  if (!values.config) {
    const report = await drill(positionals[0], options);
    return finish(io, report, !!values.json);
  }

  const cluster = await loadCluster(values.config, values.cluster);
  // SSH and Docker load only with --config: a --local drill stays small.
  const { SessionPool } = await import('../core/ssh/sessionPool');
  const pool = new SessionPool({ acceptUnknownHostKeys: values['accept-new-host-keys'] });
  try {
    const sourceNode = remote ? findNode(cluster, remote[1]) : undefined;
    const etcdNode = values.node ? findNode(cluster, values.node) : sourceNode;
    if (!values.local) options.manager = managerFor(cluster, pool, etcdNode);
    options.log = (line) => io.stderr.write(`ucp-backup: ${line}\n`);
    let report: DrillReport;
    if (remote && sourceNode) {
      const { withRemoteSource } = await import('../core/verify/remoteSource');
      const docker = await pool.get(sourceNode).docker();
      report = await withRemoteSource(docker, sourceNode.name, remote[2], signal, (source) => drill(source, options));
    } else report = await drill(positionals[0], options);
    await keepInHistory(io, cluster, pool, report, remote ? { kind: 'host', path: remote[2], node: [sourceNode!.name, sourceNode!.host] } : { kind: 'local', path: positionals[0] }, values.record);
    return finish(io, report, !!values.json);
  } finally {
    pool.closeAll();
  }
};

/** The given manager, or the first configured one that answers. */
function managerFor(cluster: ClusterConfig, pool: SessionPool, node: NodeConfig | undefined): DrillManager {
  return async () => {
    const nodes = node ? [node] : cluster.nodes;
    if (!nodes.length) findNode(cluster, undefined); // throws: an API-only cluster has no manager to reach
    const errors: string[] = [];
    for (const n of nodes) {
      try {
        const docker = await pool.get(n).docker();
        await docker.ping();
        return { docker, name: n.name };
      } catch (err) {
        errors.push(`${n.name}: ${describeError(err)}`);
      }
    }
    throw new ConfigError(`no manager of ${cluster.name} answers (${errors.join('; ')})`, 'Check that a manager is up and reachable over SSH, or run the drill with --local.');
  };
}

async function keepInHistory(io: CliIO, cluster: ClusterConfig, pool: SessionPool, report: DrillReport, file: import('../core/history/drillResult').DrilledFile, id: string | undefined): Promise<void> {
  const [{ listBackups }, { connectAny }, { drillSummary, findDrilledRecord, saveDrillResult }] = await Promise.all([import('../core/history/backupHistory'), import('../core/history/anyManager'), import('../core/history/drillResult')]);
  try {
    const { docker } = await connectAny(cluster, pool);
    const record = findDrilledRecord(await listBackups(cluster, docker), file, id);
    if (!record) {
      if (id) io.stderr.write(`ucp-backup: no backup with ID ${displayName(id)} in ${cluster.name}: the drill's result is not kept.\n`);
      return;
    }
    await saveDrillResult(record, drillSummary(report), docker);
    report.recordId = record.id;
  } catch (err) {
    io.stderr.write(`ucp-backup: the drill's result could not be kept with its backup record: ${describeError(err)}\n`);
  }
}

function finish(io: CliIO, report: DrillReport, json: boolean): number {
  if (json) printJson(io, report);
  else printDrill(io, report);
  return report.verdict === 'FAIL' ? 1 : 0;
}

export function printDrill(io: CliIO, r: DrillReport): void {
  const w = (s: string) => io.stdout.write(s + '\n');
  w(`${displayName(r.source)}: drill ${r.verdict}`);
  const v = r.verify;
  const about = [r.ucpVersion && `UCP ${r.ucpVersion}`, v && `${v.entryCount} entries`, v && (v.encrypted ? `OpenPGP ${v.cipher ?? ''}`.trim() : 'plain tar'), r.manager && `etcd on ${displayName(r.manager)}`, `${(r.durationMs / 1000).toFixed(1)} s`];
  w(`  ${about.filter(Boolean).join(', ')}`);
  if (r.etcd) {
    const e = r.etcd;
    w(`  etcd snapshot: hash ${e.hash}, revision ${e.revision}, ${e.totalKey} total keys, ${e.totalSize} bytes`);
    if (e.prefixes) w(`  keys per prefix: ${e.prefixes.map((p) => `${displayName(p.prefix)} ${p.keys}`).join(', ') || 'none'}`);
  }
  for (const c of r.checks) w(`  ${c.status.padEnd(4)} ${displayName(c.title)}: ${displayName(c.reason)}`);
  if (r.recordId) w(`  kept as the last drill of backup ${displayName(r.recordId)}`);
}
