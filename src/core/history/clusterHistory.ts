/**
 * Backup records kept in the swarm itself, so every manager and every admin sees them
 * (the spec's `GET /api/ucp/backups`). One swarm config per record, `ucp-backup.record.<id>`;
 * its data is immutable, so the current record lives in a label, updated with the config's
 * version (optimistic concurrency; a stale version is retried with a fresh read).
 */
import type Docker from 'dockerode';
import { checkRecord, type BackupRecord, type MalformedRecord } from './record';
import { statusCode } from '../engine/dockerStreams';

export const RECORD_PREFIX = 'ucp-backup.record.';
const KIND_LABEL = 'com.ucp-backup.kind';
const RECORD_LABEL = 'com.ucp-backup.record';

/**
 * UCP_BACKUP_HISTORY_SCOPE keeps a second, separate history in the same swarm: `npm run demo`
 * shares the sandbox swarm with the test suite, and shows its own records, never the tests'.
 * Unset (every real use): the cluster's one history. Scoped records are other configs
 * (`ucp-backup.record.<scope>.<id>`, kind `record.<scope>`), so neither list sees the other's.
 */
export function historyScope(env: NodeJS.ProcessEnv = process.env): string {
  const scope = env.UCP_BACKUP_HISTORY_SCOPE ?? '';
  if (scope && !/^[a-z0-9][a-z0-9-]{0,31}$/.test(scope)) throw new Error(`UCP_BACKUP_HISTORY_SCOPE must be a short lowercase name (a-z, 0-9, -), not ${JSON.stringify(scope)}.`);
  return scope;
}
const recordKind = () => (historyScope() ? `record.${historyScope()}` : 'record');
const configName = (id: string) => (historyScope() ? `${RECORD_PREFIX}${historyScope()}.${id}` : RECORD_PREFIX + id);

interface ConfigInfo {
  ID: string;
  Version: { Index: number };
  Spec: { Name: string; Labels?: Record<string, string>; Data?: string };
}

function parseRecord(c: ConfigInfo): { record: BackupRecord } | { problem: string } {
  let value: unknown;
  try {
    value = JSON.parse(c.Spec.Labels?.[RECORD_LABEL] ?? '');
  } catch {
    return { problem: `its ${RECORD_LABEL} label is not JSON` };
  }
  return checkRecord(value);
}

/** How long a record write is retried, from its first failure, while the swarm elects a new leader. */
const ELECTION_RETRY_MS = 20_000;

/** What raft answers while it has no leader: the write may or may not have been committed. */
function duringElection(err: unknown): boolean {
  return /DeadlineExceeded|context deadline exceeded|does not have a leader|leadership|raft: /i.test(err instanceof Error ? err.message : String(err));
}

/**
 * Swarms this process has already found leaderless for longer than an election: the next write
 * to them is tried once, not retried again. A run cut off by lost quorum still writes its FAILED
 * record and releases its lock, and each of those would otherwise wait out its own 20 s.
 */
const leaderlessSince = new WeakMap<Docker, number>();
const LEADERLESS_MEMORY_MS = 120_000;

/** This process found the swarm leaderless (quorum lost) within the last two minutes. */
export function knownLeaderless(docker: Docker, now = Date.now()): boolean {
  const since = leaderlessSince.get(docker);
  return since !== undefined && now - since < LEADERLESS_MEMORY_MS;
}

/**
 * A record write that survives a leader change (the old leader stopped mid-run): retried for up
 * to ELECTION_RETRY_MS while raft has no leader; a swarm that stays without one (quorum lost)
 * fails as before, a little later, and once.
 */
async function acrossElection<T>(docker: Docker, write: (retried: boolean) => Promise<T>): Promise<T> {
  let firstFailure: number | undefined;
  for (let retried = false; ; retried = true) {
    try {
      const result = await write(retried);
      leaderlessSince.delete(docker);
      return result;
    } catch (err) {
      if (!duringElection(err)) throw err;
      const now = Date.now();
      firstFailure ??= now;
      if (knownLeaderless(docker, now)) throw err;
      if (now - firstFailure > ELECTION_RETRY_MS) {
        leaderlessSince.set(docker, now);
        throw err;
      }
      await new Promise((r) => setTimeout(r, 1000));
    }
  }
}

export async function createClusterRecord(docker: Docker, record: BackupRecord): Promise<void> {
  await acrossElection(docker, async (retried) => {
    try {
      await docker.createConfig({
        _query: {},
        _body: {
          Name: configName(record.id),
          Labels: { [KIND_LABEL]: recordKind(), [RECORD_LABEL]: JSON.stringify(record) },
          Data: Buffer.from(JSON.stringify(record)).toString('base64'),
        },
      });
    } catch (err) {
      // The attempt that timed out was committed after all: the record is there.
      if (retried && statusCode(err) === 409) return;
      throw err;
    }
  });
}

export async function updateClusterRecord(docker: Docker, record: BackupRecord): Promise<void> {
  await acrossElection(docker, () => updateOnce(docker, record));
}

async function updateOnce(docker: Docker, record: BackupRecord): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    const cfg = docker.getConfig(configName(record.id));
    const info = (await cfg.inspect()) as ConfigInfo;
    const Labels = { ...(info.Spec.Labels ?? {}), [RECORD_LABEL]: JSON.stringify(record) };
    try {
      await cfg.update({ _query: { version: info.Version.Index }, _body: { ...info.Spec, Labels } });
      return;
    } catch (err) {
      // "update out of sequence": someone else updated it in between; read again.
      if (attempt >= 4 || statusCode(err) === 404) throw err;
    }
  }
}

/** Every record in the swarm, and the ones that are not records in shape (never used, reported). */
export async function readClusterHistory(docker: Docker): Promise<{ records: BackupRecord[]; malformed: MalformedRecord[] }> {
  const list = (await docker.listConfigs({ filters: { label: [`${KIND_LABEL}=${recordKind()}`] } })) as unknown as ConfigInfo[];
  const records: BackupRecord[] = [];
  const malformed: MalformedRecord[] = [];
  for (const c of list) {
    const r = parseRecord(c);
    if ('record' in r) records.push(r.record);
    else malformed.push({ source: `swarm config ${c.Spec.Name}`, problem: r.problem });
  }
  return { records, malformed };
}

export async function listClusterRecords(docker: Docker): Promise<BackupRecord[]> {
  return (await readClusterHistory(docker)).records;
}

export async function getClusterRecord(docker: Docker, id: string): Promise<BackupRecord | undefined> {
  try {
    const r = parseRecord((await docker.getConfig(configName(id)).inspect()) as ConfigInfo);
    return 'record' in r ? r.record : undefined;
  } catch (err) {
    if (statusCode(err) === 404) return undefined;
    throw err;
  }
}

/** Drops a record (Delete Backup); a record already gone is not an error. */
export async function removeClusterRecord(docker: Docker, id: string): Promise<void> {
  try {
    await docker.getConfig(configName(id)).remove();
  } catch (err) {
    if (statusCode(err) !== 404) throw err;
  }
}
