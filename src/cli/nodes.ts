/**
 * `ucp-backup nodes`: the managers of a cluster, reached over SSH, with their swarm status
 * and UCP version. Exit 0 when at least one configured manager was reached, 3 when none.
 */
import type { CliCommand, CliIO } from './common';
import { loadCluster, parse, printJson, readPassphrase } from './common';
import { discoverCluster, type ClusterStatus, type ManagerStatus } from '../core/docker/discovery';
import { SessionPool } from '../core/ssh/sessionPool';

const HELP = `Usage: ucp-backup nodes --config FILE [--cluster NAME] [--json] [--accept-new-host-keys]
                        [--key-passphrase-file FILE|-] [--verbose]

Lists the cluster's swarm managers (found through the configured SSH endpoints) with their
leader/reachable status, availability, engine, SELinux flag and UCP version. Managers not in
the configuration are reached at their swarm address with the SSH settings (port, user, keys,
ProxyJump, known_hosts, Docker socket) of the configured node that listed them.

  --accept-new-host-keys   accept and record host keys not yet in known_hosts (a CHANGED key is always refused)
  --key-passphrase-file    passphrase of an encrypted identity file, from a file or stdin ("-")
  --verbose                print SSH connection steps to stderr
Exit status: 0 at least one manager reached, 2 usage/config error, 3 no manager reached.
`;

function row(cells: string[], widths: number[]): string {
  return cells.map((c, i) => c.padEnd(widths[i])).join('  ').trimEnd();
}

function status(m: ManagerStatus): string {
  return m.reachability ?? (m.state === 'unreachable' ? 'unreachable' : '-');
}

function ucpLabel(m: ManagerStatus): string {
  if (!m.ucp.installed) return '-';
  return `${m.ucp.namespace ? m.ucp.namespace + '/' : ''}ucp:${m.ucp.version ?? '?'}`;
}

export function printTable(io: CliIO, s: ClusterStatus): void {
  const header = ['NAME', 'HOSTNAME', 'ADDRESS', 'STATUS', 'AVAILABILITY', 'ENGINE', 'SELINUX', 'UCP', 'STATE'];
  const rows = s.managers.map((m) => [
    m.name,
    m.hostname ?? '-',
    m.address ?? '-',
    status(m),
    m.availability ?? '-',
    m.engineVersion ?? '-',
    m.selinux === undefined ? '-' : m.selinux ? 'yes' : 'no',
    ucpLabel(m),
    m.state,
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  io.stdout.write(`Cluster ${s.cluster}${s.ucpVersion ? ` (UCP ${s.ucpVersion})` : ''}\n`);
  io.stdout.write(row(header, widths) + '\n');
  for (const r of rows) io.stdout.write(row(r, widths) + '\n');
  const discovered = s.managers.filter((m) => m.discoveredVia && m.nodeConfig);
  if (discovered.length) {
    io.stdout.write(`\nNot configured, found in the swarm: ${discovered.map((m) => `${m.name} (SSH ${m.nodeConfig!.host}:${m.nodeConfig!.port} with the settings of ${m.discoveredVia})`).join(', ')}\n`);
  }
  for (const m of s.managers) if (m.error) io.stdout.write(`\n${m.name}: ${m.error}\n`);
}

export const command: CliCommand = async (argv, io) => {
  const { values } = parse(argv, {
    config: { type: 'string' },
    cluster: { type: 'string' },
    json: { type: 'boolean' },
    'accept-new-host-keys': { type: 'boolean' },
    'key-passphrase-file': { type: 'string' },
    verbose: { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help) {
    io.stdout.write(HELP);
    return 0;
  }
  const cluster = await loadCluster(values.config, values.cluster);
  const keyPassphraseFile = values['key-passphrase-file'];
  let keyPassphrase: string | undefined;
  const pool = new SessionPool({
    acceptUnknownHostKeys: values['accept-new-host-keys'] === true,
    keyPassphrase: keyPassphraseFile
      ? async () => (keyPassphrase ??= await readPassphrase(keyPassphraseFile, io))
      : undefined,
    log: values.verbose ? (line) => io.stderr.write(`${line}\n`) : undefined,
  });
  try {
    const s = await discoverCluster(cluster, pool);
    if (values.json) printJson(io, s);
    else printTable(io, s);
    const reached = s.managers.some((m) => m.nodeConfig && !m.errorName);
    if (!reached) io.stderr.write(`ucp-backup: no manager of cluster "${cluster.name}" could be reached.\n`);
    return reached ? 0 : 3;
  } finally {
    pool.closeAll();
  }
};
