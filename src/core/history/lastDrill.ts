/**
 * Reading a record's last restore drill (drillResult.ts writes it). Pure, no Node imports:
 * the details webview's bundle uses it too.
 */
import type { BackupRecord, DrillSummary } from './record';

export const MAX_FINDINGS = 5;

/** A record's lastDrill, or undefined when absent or not in shape (records are read from the swarm: untrusted). */
export function lastDrillOf(record: BackupRecord): DrillSummary | undefined {
  const d = record.lastDrill as Partial<DrillSummary> | undefined;
  if (!d || typeof d !== 'object' || typeof d.at !== 'string' || !['PASS', 'WARN', 'FAIL'].includes(d.verdict as string)) return undefined;
  const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
  return {
    at: d.at,
    verdict: d.verdict as DrillSummary['verdict'],
    findings: Array.isArray(d.findings) ? d.findings.filter((f): f is string => typeof f === 'string').slice(0, MAX_FINDINGS) : [],
    revision: num(d.revision),
    keys: num(d.keys),
    etcdVersion: typeof d.etcdVersion === 'string' ? d.etcdVersion : undefined,
    ranOn: typeof d.ranOn === 'string' ? d.ranOn : '?',
    durationMs: num(d.durationMs) ?? 0,
  };
}
