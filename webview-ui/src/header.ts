/** The backup's schema fields in the spec's order, then ours, as an admin reads them (recordRows.ts). */
import { SPEC_FIELDS, type BackupRecord } from '../../src/core/history/record';
import { EXTRA_FIELDS, recordRows } from '../../src/shared/recordRows';
import { lastDrillOf } from '../../src/core/history/lastDrill';
import { el } from './dom';

/** Ours, not shown as rows; any other field is one a newer UCP's API added, shown after ours. */
const INTERNAL_FIELDS = new Set<string>(['location', 'cluster', 'authStorePaused', 'lastDrill']);
const KNOWN_FIELDS = new Set<string>([...SPEC_FIELDS, ...EXTRA_FIELDS, ...INTERNAL_FIELDS]);

export function renderSchemaTable(record: BackupRecord): HTMLElement {
  const rows = recordRows(record).map((r) =>
    el(
      'tr',
      { attrs: { 'data-field': r.field } },
      el('th', { attrs: { scope: 'row', title: r.keyTitle } }, r.label),
      el('td', { class: r.mono ? 'mono' : undefined, attrs: r.valueTitle ? { title: r.valueTitle } : undefined }, r.value),
    ),
  );
  rows.push(el('tr', { attrs: { 'data-field': 'lastDrill' } }, el('th', { attrs: { scope: 'row', title: 'lastDrill (UCP Backup)' } }, 'Last restore drill'), el('td', {}, drillText(record))));
  const added = Object.keys(record).filter((k) => !KNOWN_FIELDS.has(k));
  for (const field of added) {
    const v = (record as unknown as Record<string, unknown>)[field];
    const text = typeof v === 'string' ? v : JSON.stringify(v) ?? String(v);
    rows.push(el('tr', { class: 'new-field', attrs: { 'data-field': field, title: 'Sent by UCP; not in the documented Backup schema' } }, el('th', { attrs: { scope: 'row' } }, `${field} (new)`), el('td', {}, text)));
  }
  return el('table', { class: 'schema', attrs: { 'aria-label': 'Backup record' } }, el('tbody', {}, ...rows));
}

/** The record's last restore drill in one line (the record is read from the swarm: shape-checked), or that there was none. */
function drillText(record: BackupRecord): string {
  const d = lastDrillOf(record);
  if (!d) return record.backupState === 'SUCCESS' ? 'never drilled: run UCP: Restore Drill to prove it restores' : '';
  const figures = d.revision !== undefined ? `, revision ${d.revision}, ${d.keys ?? '?'} keys` : '';
  return `${d.verdict} on ${d.at} (etcd on ${d.ranOn}${figures})${d.findings.length ? ` — ${d.findings.join('; ')}` : ''}`;
}
