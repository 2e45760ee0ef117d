/** `ucp-backup break-lock`: removes a backup lock left by a crashed run (refuses a live one unless --force). */
import type { CliCommand } from './common';
import { loadCluster, parse, printJson } from './common';
import { UcpError } from '../core/errors';
import { SessionPool } from '../core/ssh/sessionPool';
import { breakLock } from '../core/lock/clusterLock';
import { connectAny } from '../core/history/anyManager';
import { LocalHistory } from '../core/history/localHistory';

export const command: CliCommand = async (argv, io) => {
  const { values } = parse(argv, { config: { type: 'string' }, cluster: { type: 'string' }, force: { type: 'boolean' }, json: { type: 'boolean' }, 'accept-new-host-keys': { type: 'boolean' }, help: { type: 'boolean', short: 'h' } });
  if (values.help) {
    io.stdout.write('Usage: ucp-backup break-lock --config FILE [--cluster NAME] [--force] [--json]\nRemoves a stale backup lock (heartbeat older than 60 s, or UCP_BACKUP_LOCK_STALE_MS, or owner process gone)\nand marks the record of that run FAILED. --force removes a live one.\n');
    return 0;
  }
  const cluster = await loadCluster(values.config, values.cluster);
  const pool = new SessionPool({ acceptUnknownHostKeys: values['accept-new-host-keys'] });
  try {
    const { docker, warning } = await connectAny(cluster, pool);
    if (!docker) throw new UcpError(`Cannot reach any manager of ${cluster.name}.`, warning, 1);
    const removed = await breakLock(docker, { force: !!values.force, localHistory: new LocalHistory() });
    if (values.json) printJson(io, { removed: removed ?? null });
    else io.stdout.write(removed ? `Removed the lock of ${removed.owner} on ${removed.host} (node ${removed.node}, since ${removed.since}).\n` : 'No backup lock is held.\n');
    return 0;
  } finally {
    pool.closeAll();
  }
};
