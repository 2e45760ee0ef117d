/**
 * One tab per backup (issue 15): a local backup verified from the Explorer (a file) is the same
 * backup as its row in the tree, and opening a backup again keeps the listing already decrypted.
 * Pure (unit-tested); DetailsPanels applies it.
 */
import type { PanelContent, PanelRef } from '../../shared/protocol';

/** The file a panel shows on this machine, if any: a file ref, or a local backup's record. */
export function localPathOf(content: PanelContent | undefined, ref: PanelRef): string | undefined {
  if (ref.kind === 'file') return ref.path;
  if (content?.kind === 'details' && content.record?.location === 'local') return `${content.record.backupPath}/${content.record.fileName}`;
  return undefined;
}

/**
 * What an open panel shows when asked to show `incoming`: a details content without a report
 * keeps the report it has (same backup); a file's report shown in a backup's panel keeps the
 * backup's record and ref.
 */
export function mergedContent(current: PanelContent | undefined, incoming: PanelContent): PanelContent {
  if (current?.kind !== 'details' || incoming.kind !== 'details') return incoming;
  return {
    kind: 'details',
    ref: current.record && incoming.ref.kind === 'file' ? current.ref : incoming.ref,
    record: incoming.record ?? current.record,
    report: incoming.report ?? current.report,
  };
}
