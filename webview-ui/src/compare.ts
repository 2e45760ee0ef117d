/** Compare two backups: both sides' summary, then added / removed / changed entries. */
import { displayName, formatLocalTime } from '../../src/shared/format';
import type { CompareSide, DiffView } from '../../src/shared/protocol';
import { el } from './dom';
import { renderVerdict } from './report';
import { VirtualList } from './virtualList';
import { ROW_HEIGHT } from './listing';

import { diffRows, type DiffRow } from './compareModel';

export { diffRows };

function side(which: 'A' | 'B', s: CompareSide): HTMLElement {
  return el(
    'div',
    { class: 'side', attrs: { 'data-side': which } },
    el('h3', {}, `${which} (${which === 'A' ? 'older' : 'newer'}): `, s.label, ' ', renderVerdict(s.report)),
    el(
      'p',
      { class: 'muted' },
      `${s.report.entryCount.toLocaleString('en-US')} entries`,
      s.record ? ` · created ${formatLocalTime(s.record.created_at, true)} · ${s.record.nodeLocation}` : '',
      s.report.ucpVersion ? ` · UCP ${s.report.ucpVersion}` : '',
    ),
  );
}

export function renderCompare(a: CompareSide, b: CompareSide, diff: DiffView): HTMLElement {
  const viewport = el('div', { class: 'vlist-viewport', id: 'diff', attrs: { role: 'rowgroup', tabindex: '0', 'aria-label': 'Differences' } });
  const list = new VirtualList<DiffRow>(viewport, ROW_HEIGHT, (row, item) => {
    row.className = `vlist-row entry diff-${item.status}`;
    row.dataset.name = item.name;
    row.replaceChildren(
      el('div', { class: 'cell status', attrs: { role: 'cell' } }, item.status),
      el('div', { class: 'cell name', attrs: { role: 'cell' } }, displayName(item.name)),
      el('div', { class: 'cell detail', attrs: { role: 'cell' } }, item.detail),
    );
  });
  const rows = diffRows(diff);
  const section = el(
    'section',
    { class: 'compare', attrs: { 'aria-labelledby': 'compare-title' } },
    el('h2', { id: 'compare-title' }, 'Compare backups'),
    el('div', { class: 'sides' }, side('A', a), side('B', b)),
    el(
      'p',
      { class: 'diff-summary', attrs: { role: 'status' } },
      `${diff.added.length} added · ${diff.removed.length} removed · ${diff.changed.length} changed · ${diff.unchanged} unchanged`,
    ),
    rows.length === 0
      ? el('p', { class: 'muted' }, 'The two archives list the same entries.')
      : el(
          'div',
          { class: 'vlist', attrs: { role: 'table', 'aria-label': 'Differences' } },
          el(
            'div',
            { class: 'vlist-header', attrs: { role: 'row', 'aria-rowindex': '1' } },
            el('div', { class: 'cell status', attrs: { role: 'columnheader' } }, 'Change'),
            el('div', { class: 'cell name', attrs: { role: 'columnheader' } }, 'Name'),
            el('div', { class: 'cell detail', attrs: { role: 'columnheader' } }, 'Detail'),
          ),
          viewport,
        ),
  );
  // Render after insertion so the viewport has its height; setRows also works before.
  list.setRows(rows);
  return section;
}
