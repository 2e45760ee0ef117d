/** `ucp-backup list`: the backup records (the spec's GET /api/ucp/backups), newest first. */
import type { CliCommand } from './common';
import { loadCluster, parse, printJson } from './common';
import { SessionPool } from '../core/ssh/sessionPool';
import { listHistory } from '../core/history/backupHistory';
import { connectAny } from '../core/history/anyManager';

const HELP = `Usage: ucp-backup list --config FILE [--cluster NAME] [--json] [--accept-new-host-keys]

Lists backup records kept in the cluster (seen from any manager) and on this machine.
`;

export const command: CliCommand = async (argv, io) => {
  const { values } = parse(argv, { config: { type: 'string' }, cluster: { type: 'string' }, json: { type: 'boolean' }, 'accept-new-host-keys': { type: 'boolean' }, help: { type: 'boolean', short: 'h' } });
  if (values.help) {
    io.stdout.write(HELP);
    return 0;
  }
  const cluster = await loadCluster(values.config, values.cluster);
  const pool = new SessionPool({ acceptUnknownHostKeys: values['accept-new-host-keys'] });
  try {
    const { docker, warning } = await connectAny(cluster, pool);
    if (warning) io.stderr.write(`ucp-backup: ${warning}\n`);
    const { records, malformed } = await listHistory(cluster, docker);
    // Reported, never fatal: one record another version or a hand edit broke must not hide the others.
    for (const m of malformed) io.stderr.write(`ucp-backup: skipped a malformed record (${m.source}: ${m.problem}); remove it with \`docker config rm ${m.source.replace(/^swarm config /, '')}\` once you no longer need it\n`);
    if (values.json) {
      printJson(io, records);
      return 0;
    }
    const header = ['ID', 'STATE', 'CREATED', 'NODE', 'FILE', 'ENC', 'SIZE'];
    const rows = records.map((r) => [r.id, r.backupState, r.created_at, r.nodeLocation, `${r.location === 'local' ? '' : r.nodeLocation + ':'}${r.backupPath}/${r.fileName}`, r.encrypted ? 'yes' : 'no', r.size !== undefined ? String(r.size) : '-']);
    const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
    for (const r of [header, ...rows]) io.stdout.write(r.map((c, i) => c.padEnd(widths[i])).join('  ').trimEnd() + '\n');
    return 0;
  } finally {
    pool.closeAll();
  }
};
