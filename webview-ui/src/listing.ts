/**
 * The content listing of the decrypted archive: filter box, sortable columns, the spec's
 * grouping, windowed rendering. Names are rendered with textContent via displayName().
 */
import { CATEGORY_LABELS, CATEGORY_ORDER, NOT_BACKED_UP, type Category } from '../../src/shared/categories';
import { displayName, formatMode, formatSize } from '../../src/shared/format';
import type { EntryView, SortColumn } from '../../src/shared/protocol';
import { el } from './dom';
import { buildRows, countByCategory, entryOwner, entryTime, type Row } from './listingModel';
import { VirtualList } from './virtualList';

export const ROW_HEIGHT = 22;

const COLUMNS: { id: SortColumn; label: string }[] = [
  { id: 'name', label: 'Name' },
  { id: 'type', label: 'Type' },
  { id: 'size', label: 'Size' },
  { id: 'mode', label: 'Mode' },
  { id: 'owner', label: 'Owner' },
  { id: 'mtime', label: 'Modified' },
];

export interface ListingState {
  filter: string;
  sort: { column: SortColumn; descending: boolean };
}

function cell(cls: string, text: string, title?: string): HTMLElement {
  const c = el('div', { class: `cell ${cls}`, attrs: { role: 'cell' } }, text);
  if (title) c.title = title;
  return c;
}

function renderRow(row: HTMLElement, item: Row, onToggle: (c: Category) => void): void {
  if (item.kind === 'group') {
    row.className = 'vlist-row group';
    row.dataset.category = item.category;
    delete row.dataset.name;
    const toggle = el(
      'button',
      { class: 'group-toggle', attrs: { 'aria-expanded': String(!item.collapsed) }, on: { click: () => onToggle(item.category) } },
      `${item.collapsed ? '▸' : '▾'} ${CATEGORY_LABELS[item.category]} (${item.count.toLocaleString('en-US')})`,
    );
    const c = el('div', { class: 'cell group-cell', attrs: { role: 'cell' } }, toggle);
    row.replaceChildren(c);
    return;
  }
  const e = item.entry;
  const shown = displayName(e.name);
  row.className = `vlist-row entry ${e.type}`;
  delete row.dataset.category;
  row.dataset.name = e.name;
  const owner = entryOwner(e);
  const time = entryTime(e);
  row.replaceChildren(
    cell('name', shown + (e.linkname ? ` → ${displayName(e.linkname)}` : ''), shown),
    cell('type', e.type),
    cell('size num', e.type === 'directory' ? '' : formatSize(e.size), `${e.size} bytes`),
    cell('mode mono', formatMode(e.mode, e.type), `0${e.mode.toString(8)}`),
    cell('owner', owner.text, owner.title),
    cell('mtime', time.text, time.title),
  );
}

export class Listing {
  readonly element: HTMLElement;
  private entries: readonly EntryView[] = [];
  private readonly collapsed = new Set<Category>();
  private readonly list: VirtualList<Row>;
  private readonly filterBox: HTMLElement & { value: string };
  private readonly countLabel: HTMLElement;
  private readonly summary: HTMLElement;
  private readonly headerCells = new Map<SortColumn, HTMLElement>();

  constructor(
    private state: ListingState,
    private readonly onStateChange: (s: ListingState) => void,
  ) {
    this.filterBox = el('vscode-textfield', {
      id: 'filter',
      attrs: { placeholder: 'Filter by name', 'aria-label': 'Filter entries by name' },
      on: { input: () => this.setFilter(this.filterBox.value ?? '') },
    }) as HTMLElement & { value: string };
    this.filterBox.value = state.filter;
    this.countLabel = el('span', { class: 'count muted', attrs: { 'aria-live': 'polite' } });
    this.summary = el('ul', { class: 'categories' });

    const header = el(
      'div',
      { class: 'vlist-header', attrs: { role: 'row', 'aria-rowindex': '1' } },
      ...COLUMNS.map((col) => {
        const h = el(
          'div',
          { class: `cell ${col.id}`, attrs: { role: 'columnheader' } },
          el('button', { class: 'sort', attrs: { 'data-column': col.id }, on: { click: () => this.toggleSort(col.id) } }, col.label),
        );
        this.headerCells.set(col.id, h);
        return h;
      }),
    );
    const viewport = el('div', { class: 'vlist-viewport', id: 'entries', attrs: { role: 'rowgroup', tabindex: '0', 'aria-label': 'Archive entries' } });
    this.list = new VirtualList<Row>(viewport, ROW_HEIGHT, (row, item) => renderRow(row, item, (c) => this.toggleGroup(c)));

    this.element = el(
      'section',
      { class: 'listing', attrs: { 'aria-labelledby': 'listing-title' } },
      el('h2', { id: 'listing-title' }, 'Contents'),
      this.summary,
      el('div', { class: 'toolbar' }, this.filterBox, this.countLabel),
      el('div', { class: 'vlist', attrs: { role: 'table', 'aria-label': 'Archive contents' } }, header, viewport),
      el(
        'details',
        { class: 'not-backed-up' },
        el('summary', {}, 'Not in a UCP backup'),
        el('ul', {}, ...NOT_BACKED_UP.map((n) => el('li', {}, el('strong', {}, n.name), ` — ${n.why}`))),
      ),
    );
    this.updateSortIndicators();
  }

  setEntries(entries: readonly EntryView[]): void {
    this.entries = entries;
    const counts = countByCategory(entries);
    this.summary.replaceChildren(
      ...CATEGORY_ORDER.map((c) => el('li', { attrs: { 'data-category': c } }, `${CATEGORY_LABELS[c]}: `, el('strong', {}, counts[c].toLocaleString('en-US')))),
    );
    this.refresh();
  }

  private refresh(): void {
    const rows = buildRows(this.entries, { filter: this.state.filter, sort: this.state.sort, grouped: true, collapsed: this.collapsed });
    const shown = rows.reduce((n, r) => n + (r.kind === 'entry' ? 1 : 0), 0);
    const total = this.entries.length;
    this.countLabel.textContent = this.state.filter.trim()
      ? `${shown.toLocaleString('en-US')} of ${total.toLocaleString('en-US')} entries`
      : `${total.toLocaleString('en-US')} entries`;
    this.list.setRows(rows);
  }

  private setFilter(filter: string): void {
    this.state = { ...this.state, filter };
    this.list.viewport.scrollTop = 0;
    this.refresh();
    this.onStateChange(this.state);
  }

  private toggleSort(column: SortColumn): void {
    const descending = this.state.sort.column === column ? !this.state.sort.descending : false;
    this.state = { ...this.state, sort: { column, descending } };
    this.updateSortIndicators();
    this.refresh();
    this.onStateChange(this.state);
  }

  private toggleGroup(c: Category): void {
    if (this.collapsed.has(c)) this.collapsed.delete(c);
    else this.collapsed.add(c);
    this.refresh();
  }

  private updateSortIndicators(): void {
    for (const [id, h] of this.headerCells) {
      const active = this.state.sort.column === id;
      h.setAttribute('aria-sort', active ? (this.state.sort.descending ? 'descending' : 'ascending') : 'none');
    }
  }
}
