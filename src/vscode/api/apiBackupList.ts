/**
 * The "Backups" group of an API cluster: GET /api/ucp/backups, merged with this extension's
 * own history (swarm records over SSH, this machine's) when the cluster has SSH nodes too.
 * Either side failing leaves the other listed with a note; both failing is the error.
 */
import type { ClusterConfig } from '../../core/config';
import { describeError, UcpError } from '../../core/errors';
import type { BackupRecord, MalformedRecord } from '../../core/history/record';
import type { Services } from '../services';
import { describeApiError } from './apiErrors';
import { mergeHistories } from './mergedHistory';
import type { ClusterSchedule } from '../../core/schedule/clusterSchedule';

export interface BackupListing {
  records: BackupRecord[];
  malformed: MalformedRecord[];
  note?: string;
  /** The schedules recorded in the swarm (SSH clusters): overdue and next due. */
  schedules?: ClusterSchedule[];
}

export async function loadApiClusterBackups(services: Services, cluster: ClusterConfig, sshLoad: (() => Promise<BackupListing>) | undefined): Promise<BackupListing> {
  const [ssh, api] = await Promise.allSettled([
    sshLoad ? sshLoad() : Promise.resolve<BackupListing>({ records: [], malformed: [] }),
    services.api.use(cluster, (client) => client.listBackupsChecked()),
  ]);
  if (api.status === 'rejected' && (ssh.status === 'rejected' || !sshLoad)) throw new UcpError(describeApiError(api.reason));
  const notes: string[] = [];
  if (ssh.status === 'fulfilled' && ssh.value.note) notes.push(ssh.value.note);
  if (ssh.status === 'rejected') notes.push(`The SSH history is unavailable (${describeError(ssh.reason)}); showing what UCP's API lists.`);
  if (api.status === 'rejected') notes.push(`UCP's API did not answer (${describeApiError(api.reason)}); showing the SSH history only.`);
  const merged = mergeHistories(ssh.status === 'fulfilled' ? ssh.value.records : [], api.status === 'fulfilled' ? api.value : []);
  return { records: merged.map((m) => m.record), malformed: ssh.status === 'fulfilled' ? ssh.value.malformed : [], note: notes.join(' ') || undefined, schedules: ssh.status === 'fulfilled' ? ssh.value.schedules : undefined };
}

/** What an API-only cluster shows where SSH clusters list their managers. */
export function apiClusterRow(cluster: ClusterConfig): { label: string; detail: string; icon: string; color?: string } {
  let host = cluster.ucpUrl ?? '';
  try {
    host = new URL(host).host;
  } catch {
    // shown as configured; the client reports the bad URL when used
  }
  const how = cluster.ucpAuth === 'bundle' ? 'client bundle' : `login as ${cluster.ucpUsername ?? '?'}`;
  if (cluster.ucpInsecure) return { label: `UCP API at ${host}`, detail: `${how} · certificate NOT checked (ucpInsecure)`, icon: 'warning', color: 'problemsWarningIcon.foreground' };
  return { label: `UCP API at ${host}`, detail: `${how} · no SSH nodes: UCP runs its backups`, icon: 'globe' };
}
