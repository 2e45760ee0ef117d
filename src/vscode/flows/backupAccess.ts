/**
 * Getting at a backup from the UI: its record, the node that holds a host-path archive, and
 * verifying it with the right passphrase (stored one first, then asked; retried once wrong).
 */
import { basename } from 'node:path';
import type Docker from 'dockerode';
import { WrongPassphraseError } from '../../core/archive/errors';
import type { ClusterConfig } from '../../core/config';
import { UcpError } from '../../core/errors';
import { getBackup } from '../../core/history/backupHistory';
import type { BackupRecord } from '../../core/history/record';
import type { ProgressSink } from '../../core/progress';
import type { VerifyReport } from '../../core/verify/report';
import { openHostFile, verifyBackup, type VerifySource } from '../coreAdapters';
import type { Services } from '../services';

/** The Docker API of the node a host-path record lives on (nodeLocation is its hostname). */
export async function dockerOfNode(services: Services, cluster: ClusterConfig, nodeLocation: string): Promise<Docker> {
  const find = () => services.statusCache.get(cluster.name)?.managers.find((m) => (m.hostname === nodeLocation || m.name === nodeLocation) && m.nodeConfig);
  const m = find() ?? (await services.discover(cluster), find());
  const node = m?.nodeConfig ?? cluster.nodes.find((n) => n.name === nodeLocation || n.host === nodeLocation);
  if (!node) throw new UcpError(`Node ${nodeLocation} of cluster ${cluster.name} has no SSH endpoint configured.`, 'Add it to the cluster configuration to reach files stored on it.');
  return services.docker(node);
}

export async function loadRecord(services: Services, cluster: ClusterConfig, id: string): Promise<BackupRecord> {
  const docker = await services
    .anyManagerDocker(cluster)
    .then((x) => x?.docker)
    .catch(() => undefined);
  const record = await getBackup(cluster, docker, id);
  if (!record) throw new UcpError(`Backup ${id} is not in the history of cluster ${cluster.name}.`, 'It may have been deleted; refresh the UCP Backup view.');
  return record;
}

export function labelOf(record: BackupRecord): string {
  return record.location === 'local' ? `${record.backupPath}/${record.fileName}` : `${record.nodeLocation}:${record.backupPath}/${record.fileName}`;
}

export async function verifySourceFor(services: Services, cluster: ClusterConfig, record: BackupRecord): Promise<VerifySource> {
  if (record.backupState !== 'SUCCESS') throw new UcpError(`Backup ${record.fileName || record.id} is ${record.backupState}: there is no archive to verify.`, record.shortError || undefined);
  if (record.location === 'local') return { kind: 'file', path: `${record.backupPath}/${record.fileName}` };
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
