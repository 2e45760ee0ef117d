/** Core results → the webview protocol's plain shapes (the compiler checks they line up). */
import type { VerifyReport } from '../../core/verify/report';
import type { DiffView, ReportView } from '../../shared/protocol';
import type { BackupDiff } from '../../core/verify/diff';

export function toReportView(r: VerifyReport): ReportView {
  return {
    verdict: r.verdict,
    source: r.source,
    encrypted: r.encrypted,
    entryCount: r.entryCount,
    checks: r.checks,
    entries: r.entries,
    size: r.bytes,
    sha256: r.sha256,
    ucpVersion: r.ucpVersion,
    truncated: r.truncatedListing,
  };
}

export function toDiffView(d: BackupDiff): DiffView {
  return { added: d.added, removed: d.removed, changed: d.changed.map((c) => ({ name: c.name, a: c.a, b: c.b, fields: c.what })), unchanged: d.same, partial: d.partial };
}
