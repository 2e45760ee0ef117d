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

/**
 * What a listing keeps per entries array so a keystroke in the filter box only scans: lower-case
 * names, categories, one row object per entry, and each sort order once computed (issue 15:
 * filtering 100k rows took ~1 s; now a scan of prepared strings, well under 100 ms).
 */
class ListingIndex {
  private readonly lower: string[];
  private readonly category: Category[];
  private readonly rows: Row[];
  private readonly orders = new Map<string, Uint32Array>();

  constructor(private readonly entries: readonly EntryView[]) {
    this.lower = entries.map((e) => e.name.toLowerCase());
    this.category = entries.map((e) => categorize(e.name));
    this.rows = entries.map((entry) => ({ kind: 'entry', entry }));
  }

  private order(sort: ListingOptions['sort']): Uint32Array {
    const key = `${sort.column}:${sort.descending}`;
    let order = this.orders.get(key);
    if (!order) {
      const e = this.entries;
      const primary = compareBy(sort.column);
      const sign = sort.descending ? -1 : 1;
      // Name is the tie-breaker for every column so the order is stable and predictable.
      order = Uint32Array.from(e.keys()).sort((i, j) => sign * (primary(e[i], e[j]) || (e[i].name < e[j].name ? -1 : e[i].name > e[j].name ? 1 : 0)));
      this.orders.set(key, order);
    }
    return order;
  }

  build(options: ListingOptions): Row[] {
    const needle = options.filter.trim().toLowerCase();
    const order = this.order(options.sort);
    if (!options.grouped) {
      const out: Row[] = [];
      for (const i of order) if (!needle || this.lower[i].includes(needle)) out.push(this.rows[i]);
      return out;
    }
    const buckets = new Map<Category, Row[]>(CATEGORY_ORDER.map((c) => [c, []]));
    for (const i of order) if (!needle || this.lower[i].includes(needle)) buckets.get(this.category[i])!.push(this.rows[i]);
    const rows: Row[] = [];
    for (const category of CATEGORY_ORDER) {
      const list = buckets.get(category)!;
      if (list.length === 0) continue;
      const collapsed = options.collapsed.has(category);
      rows.push({ kind: 'group', category, count: list.length, collapsed });
      if (!collapsed) for (const r of list) rows.push(r);
    }
    return rows;
  }
}

const indexes = new WeakMap<readonly EntryView[], ListingIndex>();

/** The rows for the listing; the work per entries array is done once (the array is the key: do not mutate it). */
export function buildRows(entries: readonly EntryView[], options: ListingOptions): Row[] {
  let index = indexes.get(entries);
  if (!index) indexes.set(entries, (index = new ListingIndex(entries)));
  return index.build(options);
}

/** Entry counts per category (for the summary above the listing). */
export function countByCategory(entries: readonly EntryView[]): Record<Category, number> {
  const counts = Object.fromEntries(CATEGORY_ORDER.map((c) => [c, 0])) as Record<Category, number>;
  for (const e of entries) counts[categorize(e.name)]++;
  return counts;
}

/**
 * UCP writes some entries itself (the container JSON at the top level) with no time and owner
 * 0/0 (real-backup-layout.md): "1970-01-01 00:00" would read as a clock fault. Shown as "—"
 * with the reason on hover; a real time is shown as it is in the archive (UTC).
 */
export function entryTime(e: EntryView): { text: string; title: string } {
  if (Date.parse(e.mtime) === 0) return { text: '—', title: 'No time in the archive: UCP writes this entry itself, without one.' };
  return { text: e.mtime.replace('T', ' ').replace(/\.\d+Z$|Z$/, ''), title: `${e.mtime} (UTC)` };
}

export function entryOwner(e: EntryView): { text: string; title: string } {
  if (Date.parse(e.mtime) === 0 && !e.uid && !e.gid && !e.uname && !e.gname) return { text: '—', title: 'No owner in the archive (0/0): UCP writes this entry itself.' };
  return { text: owner(e), title: `uid ${e.uid}, gid ${e.gid}` };
}
