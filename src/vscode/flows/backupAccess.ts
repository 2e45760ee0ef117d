/**
 * Getting at a backup from the UI: its record, the node that holds a host-path archive, and
 * verifying it with the right passphrase (stored one first, then asked; retried once wrong).
 */
import { existsSync } from 'node:fs';
import { basename } from 'node:path';
import type Docker from 'dockerode';
import { WrongPassphraseError } from '../../core/archive/errors';
import { isApiCluster, type ClusterConfig } from '../../core/config';
import { UcpError } from '../../core/errors';
import { getBackup } from '../../core/history/backupHistory';
import type { BackupRecord } from '../../core/history/record';
import type { ProgressSink } from '../../core/progress';
import type { VerifyReport } from '../../core/verify/report';
import { openHostFile, verifyBackup, type VerifySource } from '../coreAdapters';
import type { Services } from '../services';
import { describeApiError } from '../api/apiErrors';

/** The Docker API of the node a host-path record lives on (nodeLocation is its hostname). */
export async function dockerOfNode(services: Services, cluster: ClusterConfig, nodeLocation: string): Promise<Docker> {
  const find = () => services.statusCache.get(cluster.name)?.managers.find((m) => (m.hostname === nodeLocation || m.name === nodeLocation) && m.nodeConfig);
  const m = find() ?? (await services.discover(cluster), find());
  const node = m?.nodeConfig ?? cluster.nodes.find((n) => n.name === nodeLocation || n.host === nodeLocation);
  if (!node && cluster.nodes.length === 0) {
    // An API-only cluster: UCP wrote the archive on its manager, and only SSH reaches files there.
    throw new UcpError(`UCP wrote this backup on ${nodeLocation || 'one of its managers'}, and cluster ${cluster.name} is reached through the UCP API only: the API lists backups but cannot download them.`, `To verify or download it, add that manager's SSH endpoint to the cluster (its "nodes" in setting ucpBackup.clusters), or copy the file from the manager to this machine and run UCP: Verify Backup on it.`);
  }
  if (!node) throw new UcpError(`Node ${nodeLocation} of cluster ${cluster.name} has no SSH endpoint configured.`, 'Add it to the cluster configuration to reach files stored on it.');
  return services.docker(node);
}

export async function loadRecord(services: Services, cluster: ClusterConfig, id: string): Promise<BackupRecord> {
  // An API-only cluster's records are UCP's; with SSH nodes too, ours first, then UCP's.
  const docker = cluster.nodes.length === 0 ? undefined : await services
    .anyManagerDocker(cluster)
    .then((x) => x?.docker)
    .catch(() => undefined);
  const record = (cluster.nodes.length === 0 ? undefined : await getBackup(cluster, docker, id)) ?? (isApiCluster(cluster) ? await apiRecord(services, cluster, id) : undefined);
  if (!record) throw new UcpError(`Backup ${id} is not in the history of cluster ${cluster.name}.`, 'It may have been deleted; refresh the UCP Backup view.');
  return record;
}

/** GET /api/ucp/backup/{id}; errors read as VS Code's (not the CLI's) advice. */
async function apiRecord(services: Services, cluster: ClusterConfig, id: string): Promise<BackupRecord> {
  try {
    return await services.api.use(cluster, (client) => client.getBackup(id));
  } catch (err) {
    throw new UcpError(describeApiError(err));
  }
}

export function labelOf(record: BackupRecord): string {
  return record.location === 'local' ? `${record.backupPath}/${record.fileName}` : `${record.nodeLocation}:${record.backupPath}/${record.fileName}`;
}

export async function verifySourceFor(services: Services, cluster: ClusterConfig, record: BackupRecord): Promise<VerifySource> {
  if (record.backupState !== 'SUCCESS') throw new UcpError(`Backup ${record.fileName || record.id} is ${record.backupState}: there is no archive to verify.`, record.shortError || undefined);
  if (record.location === 'local') {
    const path = `${record.backupPath}/${record.fileName}`;
    // Said in words, never as a raw ENOENT: moved, deleted, or written on another machine.
    if (!existsSync(path)) throw new UcpError(`The file of backup ${record.fileName} is not at ${path} on this machine: it was moved or deleted, or the backup was made on another machine.`, 'Put the file back there, or right-click the backup and choose "Forget Backup" to drop its record.');
    return { kind: 'file', path };
  }
  const docker = await dockerOfNode(services, cluster, record.nodeLocation);
  return { kind: 'stream', open: async () => (await openHostFile(docker, record)).stream, size: record.size, label: labelOf(record) };
}

export interface VerifyRun {
  source: VerifySource;
  /** Cluster whose stored passphrase is tried first. */
  cluster?: string;
  clusterVersion?: string;
  signal?: AbortSignal;
  onProgress?: ProgressSink;
}

/** Verifies; a wrong passphrase is asked again (twice at most). Undefined = the admin cancelled. */
export async function verifyWithPassphrase(services: Services, run: VerifyRun): Promise<VerifyReport | undefined> {
  const label = run.source.kind === 'file' ? basename(run.source.path) : run.source.label;
  let cancelled = false;
  for (let attempt = 0; attempt < 3; attempt++) {
    const failedBefore = attempt > 0;
    try {
      return await verifyBackup(run.source, {
        passphrase: async () => {
          const p = await services.passphrases.forDecrypt(label, run.cluster, failedBefore);
          if (p === undefined) cancelled = true;
          return p;
        },
        clusterVersion: run.clusterVersion,
        signal: run.signal,
        onProgress: run.onProgress,
        maxEntriesInReport: 200_000,
        fileSha256: true,
        // In the UI, the full check: every manifest SHA-256 and per-entry hashes for Compare.
        hashEntries: true,
      });
    } catch (err) {
      if (cancelled) return undefined;
      if (!(err instanceof WrongPassphraseError) || attempt === 2) throw err;
    }
  }
  return undefined;
}
