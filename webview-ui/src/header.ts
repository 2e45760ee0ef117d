/** The backup's schema fields, exactly as the spec's "Backup schema" table, then ours. */
import { SPEC_FIELDS, type BackupRecord } from '../../src/core/history/record';
import { formatSize } from '../../src/shared/format';
import { el } from './dom';

const EXTRA_FIELDS = ['size', 'sha256', 'ucpVersion', 'engine', 'engineReason'] as const;

function value(record: BackupRecord, field: (typeof SPEC_FIELDS)[number] | (typeof EXTRA_FIELDS)[number]): string {
  const v = record[field];
  if (v === undefined || v === null) return '';
  if (field === 'size' && typeof v === 'number') return `${formatSize(v)} (${v.toLocaleString('en-US')} bytes)`;
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
  return el('table', { class: 'schema', attrs: { 'aria-label': 'Backup record' } }, el('tbody', {}, ...rows));
}
