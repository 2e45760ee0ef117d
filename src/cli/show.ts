/** `ucp-backup show ID`: one record (the spec's GET /api/ucp/backup/{id}); exit 4 when not found. */
import type { CliCommand } from './common';
import { loadCluster, parse, printJson } from './common';
import { ConfigError, UcpError } from '../core/errors';
import { SessionPool } from '../core/ssh/sessionPool';
import { getBackup } from '../core/history/backupHistory';
import { SPEC_FIELDS } from '../core/history/record';
import { connectAny } from '../core/history/anyManager';

export const command: CliCommand = async (argv, io) => {
  const { values, positionals } = parse(argv, { config: { type: 'string' }, cluster: { type: 'string' }, json: { type: 'boolean' }, 'accept-new-host-keys': { type: 'boolean' }, help: { type: 'boolean', short: 'h' } });
  if (values.help) {
    io.stdout.write('Usage: ucp-backup show --config FILE [--cluster NAME] ID [--json]\nExit status: 0 found, 4 not found.\n');
    return 0;
  }
  if (positionals.length !== 1) throw new ConfigError('Give exactly one backup ID.', 'See `ucp-backup list` for the IDs.');
  const id = positionals[0];
  const cluster = await loadCluster(values.config, values.cluster);
  const pool = new SessionPool({ acceptUnknownHostKeys: values['accept-new-host-keys'] });
  try {
    const { docker, warning } = await connectAny(cluster, pool);
    if (warning) io.stderr.write(`ucp-backup: ${warning}\n`);
    const record = await getBackup(cluster, docker, id);
    if (!record) throw new UcpError(`No backup with ID ${id} in cluster ${cluster.name}.`, 'See `ucp-backup list` for the IDs.', 4);
    if (values.json) printJson(io, record);
    else {
      const keys = [...SPEC_FIELDS, ...Object.keys(record).filter((k) => !(SPEC_FIELDS as readonly string[]).includes(k))] as (keyof typeof record)[];
      // lastDrill (and any structured field a newer UCP sends) as JSON, not "[object Object]".
      for (const k of keys) io.stdout.write(`${String(k).padEnd(13)} ${typeof record[k] === 'object' && record[k] !== null ? JSON.stringify(record[k]) : String(record[k] ?? '')}\n`);
    }
    return 0;
  } finally {
    pool.closeAll();
  }
};
