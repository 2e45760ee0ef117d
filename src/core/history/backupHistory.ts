/** The history the admin sees: cluster records merged with local ones, newest first. */
import type Docker from 'dockerode';
import type { ClusterConfig } from '../config';
import type { BackupRecord, MalformedRecord } from './record';
import { readClusterHistory, getClusterRecord } from './clusterHistory';
import { LocalHistory } from './localHistory';

function rank(r: BackupRecord): number {
  return r.backupState === 'IN_PROGRESS' ? 0 : 1;
}

/** Prefers the record that has finished; both copies describe the same backup. */
function pick(a: BackupRecord, b: BackupRecord): BackupRecord {
  return rank(b) > rank(a) ? { ...a, ...b } : { ...b, ...a };
}

/** The merged history, newest first, and the records in the swarm that are malformed (reported, never used). */
export async function listHistory(cluster: ClusterConfig, docker: Docker | undefined, local = new LocalHistory()): Promise<{ records: BackupRecord[]; malformed: MalformedRecord[] }> {
  const merged = new Map<string, BackupRecord>();
  const remote = docker ? await readClusterHistory(docker) : { records: [], malformed: [] };
  for (const r of remote.records) merged.set(r.id, r);
  for (const r of await local.list(cluster.name)) merged.set(r.id, merged.has(r.id) ? pick(merged.get(r.id)!, r) : r);
  return { records: [...merged.values()].sort((a, b) => b.created_at.localeCompare(a.created_at)), malformed: remote.malformed };
}

export async function listBackups(cluster: ClusterConfig, docker: Docker | undefined, local = new LocalHistory()): Promise<BackupRecord[]> {
  return (await listHistory(cluster, docker, local)).records;
}

export async function getBackup(cluster: ClusterConfig, docker: Docker | undefined, id: string, local = new LocalHistory()): Promise<BackupRecord | undefined> {
  const remote = docker ? await getClusterRecord(docker, id) : undefined;
  const mine = (await local.list(cluster.name)).find((r) => r.id === id);
  if (remote && mine) return pick(remote, mine);
  return remote ?? mine;
}
