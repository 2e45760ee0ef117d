/**
 * The last restore drill of a backup, kept in its history record (issue 13) so the tree and
 * the details show when it was drilled and how it went. The record is found by its id, or by
 * where its file is (a local path, or a path on a manager); it is written where it lives: the
 * swarm's copy and/or the local history.
 */
import { resolve } from 'node:path';
import type Docker from 'dockerode';
import type { DrillReport } from '../drill/report';
import { getClusterRecord, updateClusterRecord } from './clusterHistory';
import { LocalHistory } from './localHistory';
import type { BackupRecord, DrillSummary } from './record';
import { MAX_FINDINGS } from './lastDrill';

export { lastDrillOf } from './lastDrill';

const MAX_FINDING = 240;

export function drillSummary(r: DrillReport, at = new Date()): DrillSummary {
  const findings = r.checks
    .filter((c) => c.status !== 'PASS')
    .slice(0, MAX_FINDINGS)
    .map((c) => {
      const text = `${c.status} ${c.title}: ${c.reason}`;
      return text.length > MAX_FINDING ? `${text.slice(0, MAX_FINDING - 1)}…` : text;
    });
  return { at: at.toISOString(), verdict: r.verdict, findings, revision: r.etcd?.memberRevision ?? r.etcd?.revision, keys: r.etcd?.keys, etcdVersion: r.etcd?.etcdVersion, ranOn: r.manager ?? 'local', durationMs: r.durationMs };
}

/** Where a drilled file is: on this machine, or at an absolute path on a manager. */
export type DrilledFile = { kind: 'local'; path: string } | { kind: 'host'; path: string; node: string[] };

/** The SUCCESS record whose file that is (its id when given); undefined: none or more than one. */
export function findDrilledRecord(records: BackupRecord[], file: DrilledFile, id?: string): BackupRecord | undefined {
  if (id) return records.find((r) => r.id === id);
  const at = (r: BackupRecord) => (file.kind === 'local' ? resolve(r.backupPath, r.fileName) : `${r.backupPath.replace(/\/+$/, '')}/${r.fileName}`);
  const want = file.kind === 'local' ? resolve(file.path) : file.path;
  let hits = records.filter((r) => r.backupState === 'SUCCESS' && r.fileName && (r.location ?? 'host') === file.kind && at(r) === want);
  // The same folder on several managers: the node the file was read on decides.
  if (file.kind === 'host' && hits.length > 1) hits = hits.filter((r) => file.node.includes(r.nodeLocation));
  return hits.length === 1 ? hits[0] : undefined;
}

/** Stores the summary in the record's swarm copy (when `docker` reaches it) and in the local history (when it is there). */
export async function saveDrillResult(record: BackupRecord, summary: DrillSummary, docker: Docker | undefined, local = new LocalHistory()): Promise<BackupRecord> {
  const updated = { ...record, lastDrill: summary };
  const remote = docker ? await getClusterRecord(docker, record.id) : undefined;
  if (remote) await updateClusterRecord(docker!, { ...remote, lastDrill: summary });
  if ((await local.list()).some((r) => r.id === record.id)) await local.put(updated);
  return updated;
}
