/**
 * The rows of a comparison, older (A) → newer (B): what the newer backup added, removed and
 * changed, each change said per field (sizes to the byte when the rounded sizes look alike,
 * SHA-256 from the manifests, mode, owner, type). Pure (unit-tested).
 */
import { formatSize } from '../../src/shared/format';
import type { DiffView, EntryView } from '../../src/shared/protocol';

export type DiffRow = { status: 'added' | 'removed' | 'changed'; name: string; detail: string };

const bytes = (n: number) => `${n.toLocaleString('en-US')} bytes`;
/** "2.0 KiB (2,048 bytes)"; below 1 KiB formatSize is already to the byte. */
const sizeText = (n: number) => (n < 1024 ? formatSize(n) : `${formatSize(n)} (${bytes(n)})`);
const signed = (n: number) => `${n > 0 ? '+' : n < 0 ? '−' : '±'}${Math.abs(n).toLocaleString('en-US')}`;
const owner = (e: EntryView) => `${e.uname || e.uid}/${e.gname || e.gid}`;

export function describeChange(fields: string[], a: EntryView, b: EntryView): string {
  return fields
    .map((f) => {
      if (f === 'size') {
        const [x, y] = [formatSize(a.size), formatSize(b.size)];
        if (a.size < 1024 && b.size < 1024) return `size ${x} → ${y}`;
        // "321 KiB → 321 KiB" says nothing: to the byte when the rounded sizes look the same.
        return x === y ? `size ${bytes(a.size)} → ${bytes(b.size)} (${signed(b.size - a.size)})` : `size ${x} → ${y} (${signed(b.size - a.size)} bytes)`;
      }
      if (f === 'sha256') return `content (SHA-256 ${a.sha256?.slice(0, 12) ?? '?'}… → ${b.sha256?.slice(0, 12) ?? '?'}…, same size)`;
      if (f === 'mode') return `mode 0${a.mode.toString(8)} → 0${b.mode.toString(8)}`;
      if (f === 'owner') return `owner ${owner(a)} → ${owner(b)}`;
      if (f === 'type') return `type ${a.type} → ${b.type}`;
      return f;
    })
    .join(', ');
}

export function diffRows(diff: DiffView): DiffRow[] {
  const rows: DiffRow[] = [];
  for (const e of diff.removed) rows.push({ status: 'removed', name: e.name, detail: e.type === 'directory' ? 'directory' : sizeText(e.size) });
  for (const e of diff.added) rows.push({ status: 'added', name: e.name, detail: e.type === 'directory' ? 'directory' : sizeText(e.size) });
  for (const c of diff.changed) rows.push({ status: 'changed', name: c.name, detail: describeChange(c.fields, c.a, c.b) });
  rows.sort((x, y) => (x.name < y.name ? -1 : x.name > y.name ? 1 : 0));
  return rows;
}
