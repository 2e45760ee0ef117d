/**
 * Filter, sort and group the archive listing into the flat row list the virtual list
 * renders. Pure (no DOM) so it is unit-tested in Node and stays fast on 100k entries.
 */
import { CATEGORY_ORDER, categorize, type Category } from '../../src/shared/categories';
import type { EntryView, SortColumn } from '../../src/shared/protocol';

export type Row = { kind: 'group'; category: Category; count: number; collapsed: boolean } | { kind: 'entry'; entry: EntryView };

export interface ListingOptions {
  filter: string;
  sort: { column: SortColumn; descending: boolean };
  grouped: boolean;
  collapsed: ReadonlySet<Category>;
}

function owner(e: EntryView): string {
  return `${e.uname || e.uid}/${e.gname || e.gid}`;
}

function compareBy(column: SortColumn): (a: EntryView, b: EntryView) => number {
  switch (column) {
    case 'size':
      return (a, b) => a.size - b.size;
    case 'mode':
      return (a, b) => a.mode - b.mode;
    case 'mtime':
      return (a, b) => (a.mtime < b.mtime ? -1 : a.mtime > b.mtime ? 1 : 0);
    case 'type':
      return (a, b) => (a.type < b.type ? -1 : a.type > b.type ? 1 : 0);
    case 'owner':
      return (a, b) => {
        const x = owner(a);
        const y = owner(b);
        return x < y ? -1 : x > y ? 1 : 0;
      };
    case 'name':
      return () => 0;
  }
}

/** Case-insensitive substring match on the name (what an admin types: "key.pem", "etcd"). */
export function matches(entry: EntryView, needle: string): boolean {
  return needle === '' || entry.name.toLowerCase().includes(needle);
}

export function buildRows(entries: readonly EntryView[], options: ListingOptions): Row[] {
  const needle = options.filter.trim().toLowerCase();
  const filtered = needle ? entries.filter((e) => matches(e, needle)) : entries.slice();
  const primary = compareBy(options.sort.column);
  const sign = options.sort.descending ? -1 : 1;
  // Name is the tie-breaker for every column so the order is stable and predictable.
  filtered.sort((a, b) => sign * (primary(a, b) || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)));
  if (!options.grouped) return filtered.map((entry) => ({ kind: 'entry', entry }));

  const buckets = new Map<Category, EntryView[]>(CATEGORY_ORDER.map((c) => [c, []]));
  for (const e of filtered) buckets.get(categorize(e.name))!.push(e);
  const rows: Row[] = [];
  for (const category of CATEGORY_ORDER) {
    const list = buckets.get(category)!;
    if (list.length === 0) continue;
    const collapsed = options.collapsed.has(category);
    rows.push({ kind: 'group', category, count: list.length, collapsed });
    if (!collapsed) for (const entry of list) rows.push({ kind: 'entry', entry });
  }
  return rows;
}

/** Entry counts per category (for the summary above the listing). */
export function countByCategory(entries: readonly EntryView[]): Record<Category, number> {
  const counts = Object.fromEntries(CATEGORY_ORDER.map((c) => [c, 0])) as Record<Category, number>;
  for (const e of entries) counts[categorize(e.name)]++;
  return counts;
}
