/**
 * A schedule's expectation, kept in the cluster's own history (a swarm config per schedule,
 * like the backup records): every admin and VS Code window then sees when the next backup is
 * due and whether one is overdue, whichever machine runs the timer.
 */
import type Docker from 'dockerode';
import { statusCode } from '../engine/dockerStreams';

export const SCHEDULE_PREFIX = 'ucp-backup.schedule.';
const KIND_LABEL = 'com.ucp-backup.kind';
const SCHEDULE_LABEL = 'com.ucp-backup.schedule';

export interface ClusterSchedule {
  id: string;
  cluster: string;
  /** Hostname and user of the machine whose timer or crontab runs it. */
  machine: string;
  user: string;
  mode: 'systemd' | 'cron';
  cron: string;
  every?: string;
  timeZone: string;
  /** The longest gap between two runs: how old the last good backup may be. */
  intervalMs: number;
  randomDelaySec: number;
  /** Where its backups go: a local folder, or NODE-independent host path. */
  destination: string;
  namePrefix: string;
  copyTo: string[];
  installedAt: string;
}

/**
 * A backup a schedule with this prefix made: `<prefix><UTC yyyymmddThhmmssZ>.tar` exactly
 * (runSchedule's backupName), so schedule `prod` never counts `prod-monthly-…` as its own.
 */
export function isScheduleBackupName(prefix: string, fileName: string): boolean {
  if (!prefix || !fileName.startsWith(prefix)) return false;
  return /^\d{8}T\d{6}Z\.tar$/.test(fileName.slice(prefix.length));
}

/** Swarm config names allow [a-zA-Z0-9-_.], 64 characters at most. */
function configName(s: Pick<ClusterSchedule, 'id' | 'machine'>): string {
  return (SCHEDULE_PREFIX + `${s.machine}.${s.id}`.replace(/[^a-zA-Z0-9_.-]/g, '-')).slice(0, 64);
}

interface ConfigInfo {
  Spec: { Name: string; Labels?: Record<string, string> };
}

export async function putClusterSchedule(docker: Docker, s: ClusterSchedule): Promise<void> {
  await removeClusterSchedule(docker, s);
  const json = JSON.stringify(s);
  await docker.createConfig({ _query: {}, _body: { Name: configName(s), Labels: { [KIND_LABEL]: 'schedule', [SCHEDULE_LABEL]: json }, Data: Buffer.from(json).toString('base64') } });
}

export async function removeClusterSchedule(docker: Docker, s: Pick<ClusterSchedule, 'id' | 'machine'>): Promise<void> {
  try {
    await docker.getConfig(configName(s)).remove();
  } catch (err) {
    if (statusCode(err) !== 404) throw err;
  }
}

/** Every schedule recorded in the swarm; labels that are not one are skipped. */
export async function listClusterSchedules(docker: Docker): Promise<ClusterSchedule[]> {
  const list = (await docker.listConfigs({ filters: { label: [`${KIND_LABEL}=schedule`] } })) as unknown as ConfigInfo[];
  const out: ClusterSchedule[] = [];
  for (const c of list) {
    try {
      const s = JSON.parse(c.Spec.Labels?.[SCHEDULE_LABEL] ?? '') as ClusterSchedule;
      if (typeof s.id === 'string' && typeof s.cron === 'string' && typeof s.intervalMs === 'number') out.push(s);
    } catch {
      /* not ours in shape: ignored, like a malformed record */
    }
  }
  return out;
}
