/**
 * The result of a restore drill: the same check table as verify's report (report.ts in
 * verify/), with a third state. A drill can find what is not wrong yet but soon will be
 * (a certificate expiring in 10 days, another patch version): WARN, which does not fail.
 */
import type { EntryInfo } from '../archive/entry';

export type DrillStatus = 'PASS' | 'WARN' | 'FAIL';

export type DrillCheckId = 'archive' | 'etcdRestore' | 'etcdMember' | 'etcdManifest' | 'certificate' | 'authStore' | 'version';

export interface DrillCheck {
  id: DrillCheckId;
  title: string;
  status: DrillStatus;
  /** status !== 'FAIL', for readers of verify's shape. */
  pass: boolean;
  reason: string;
}

export interface EtcdFigures {
  /** From `snapshot status` of the archive's snapshot. */
  hash: number;
  revision: number;
  totalKey: number;
  totalSize: number;
  /** etcd version of the member that restored and served it. */
  etcdVersion?: string;
  /** What the started member answered. */
  memberRevision?: number;
  keys?: number;
  /** Keys per top-level prefix ("/registry", "/docker", …), most first. */
  prefixes?: { prefix: string; keys: number }[];
}

export interface DrillReport {
  verdict: DrillStatus;
  source: string;
  /** Verify's verdict of the same read. */
  verify?: { verdict: 'VALID' | 'INVALID'; entryCount: number; encrypted: boolean; cipher?: string };
  ucpVersion?: string;
  targetVersion?: string;
  /** The manager whose UCP version is the target when none was given. */
  targetFrom?: string;
  /** The manager the etcd containers ran on (in-cluster mode). */
  manager?: string;
  /** The history record the result was kept in (CLI with --config). */
  recordId?: string;
  /** The archive did not open because the passphrase is wrong (a UI asks again). */
  wrongPassphrase?: boolean;
  /** The archive's entries, when asked for (DrillOptions.maxEntriesInReport). */
  entries?: EntryInfo[];
  etcd?: EtcdFigures;
  authStore?: { kind: 'rethinkdb-dump' | 'volume-copy' | 'unknown'; entries: number; pausedMs?: number };
  checks: DrillCheck[];
  /** How long the drill took (ms). */
  durationMs: number;
}

export function check(id: DrillCheckId, title: string, status: DrillStatus, reason: string): DrillCheck {
  return { id, title, status, pass: status !== 'FAIL', reason };
}

export function verdictOf(checks: DrillCheck[]): DrillStatus {
  if (checks.some((c) => c.status === 'FAIL')) return 'FAIL';
  return checks.some((c) => c.status === 'WARN') ? 'WARN' : 'PASS';
}
