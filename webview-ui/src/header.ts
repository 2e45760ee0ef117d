/** The backup's schema fields, exactly as the spec's "Backup schema" table, then ours. */
import { SPEC_FIELDS, type BackupRecord } from '../../src/core/history/record';
import { formatSize } from '../../src/shared/format';
import { lastDrillOf } from '../../src/core/history/lastDrill';
import { el } from './dom';

const EXTRA_FIELDS = ['size', 'sha256', 'ucpVersion', 'engine', 'engineReason'] as const;
/** Ours, not shown as rows; any other field is one a newer UCP's API added, shown after ours. */
const INTERNAL_FIELDS = new Set<string>(['location', 'cluster', 'authStorePaused', 'lastDrill']);
const KNOWN_FIELDS = new Set<string>([...SPEC_FIELDS, ...EXTRA_FIELDS, ...INTERNAL_FIELDS]);

function value(record: BackupRecord, field: (typeof SPEC_FIELDS)[number] | (typeof EXTRA_FIELDS)[number]): string {
  const v = record[field];
  if (v === undefined || v === null) return '';
  if (field === 'size' && typeof v === 'number') return `${formatSize(v)} (${v.toLocaleString('en-US')} bytes)`;
  // UCP's zero time (0001-01-01T00:00:00Z) means the backup has not completed.
  if (field === 'completed_at' && typeof v === 'string' && v.startsWith('0001-01-01')) return 'not completed';
  return String(v);
}

/** A table whose row headers are the field names (`id`, `encrypted`, …) and cells the values. */
export function renderSchemaTable(record: BackupRecord): HTMLElement {
  const rows = [...SPEC_FIELDS, ...EXTRA_FIELDS].map((field) =>
    el(
      'tr',
      { attrs: { 'data-field': field } },
      el('th', { attrs: { scope: 'row' } }, field),
      el('td', { class: field === 'id' || field === 'sha256' ? 'mono' : undefined }, value(record, field)),
    ),
  );
  rows.push(el('tr', { attrs: { 'data-field': 'lastDrill' } }, el('th', { attrs: { scope: 'row' } }, 'last restore drill'), el('td', {}, drillText(record))));
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
