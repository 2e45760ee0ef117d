/** Formatting shared by the tree (host) and the details webview. Pure functions. */

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];

export function formatSize(bytes: number | undefined): string {
  if (bytes === undefined || !Number.isFinite(bytes) || bytes < 0) return '';
  let v = bytes;
  let u = 0;
  while (v >= 1024 && u < UNITS.length - 1) {
    v /= 1024;
    u++;
  }
  return u === 0 ? `${v} B` : `${v < 10 ? v.toFixed(1) : Math.round(v)} ${UNITS[u]}`;
}

/** "5 minutes ago", "in 2 hours", "just now". `now` is passed so tests are deterministic. */
export function formatRelative(iso: string, now: number = Date.now()): string {
  const t = Date.parse(iso);
  if (!Number.isFinite(t)) return '';
  const diff = Math.round((now - t) / 1000);
  const abs = Math.abs(diff);
  if (abs < 45) return 'just now';
  const steps: [number, string][] = [
    [60, 'second'],
    [60, 'minute'],
    [24, 'hour'],
    [30, 'day'],
    [12, 'month'],
    [Number.POSITIVE_INFINITY, 'year'],
  ];
  let v = abs;
  for (const [size, unit] of steps) {
    if (v < size) {
      const n = Math.round(v);
      const label = `${n} ${unit}${n === 1 ? '' : 's'}`;
      return diff >= 0 ? `${label} ago` : `in ${label}`;
    }
    v /= size;
  }
  return '';
}

/** ls -l style permission string: "drwxr-xr-x". */
export function formatMode(mode: number, type: string): string {
  const kinds: Record<string, string> = { directory: 'd', symlink: 'l', char: 'c', block: 'b', fifo: 'p', file: '-', hardlink: '-', contiguous: '-', sparse: '-' };
  const kind = kinds[type] ?? '?';
  const bits = 'rwxrwxrwx';
  let s = '';
  for (let i = 0; i < 9; i++) s += mode & (1 << (8 - i)) ? bits[i] : '-';
  return kind + s;
}

/**
 * Archive member names come from the archive (untrusted): the webview shows them with the
 * same escapes as the CLI and the report's reasons (one definition, safeName.ts; pure, no
 * Node imports). Render the result as text only.
 */
export { displayName, safeText } from '../core/verify/safeName';

/** The spec writes completed_at as Go's zero time until a backup completes. */
export function isZeroTime(iso: string | undefined): boolean {
  return !iso || iso.startsWith('0001-01-01');
}

const pad = (n: number) => String(n).padStart(2, '0');

/**
 * A time as the admin reads it: local, "2024-05-01 13:55" (sortable, never cut to a date alone);
 * `seconds` adds ":07". Empty for Go's zero time or an unparseable value.
 */
export function formatLocalTime(iso: string | undefined, seconds = false): string {
  if (isZeroTime(iso)) return '';
  const d = new Date(iso!);
  if (!Number.isFinite(d.getTime())) return '';
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}${seconds ? `:${pad(d.getSeconds())}` : ''}`;
}

/** The same instant in UTC, for hovers: "2024-05-01 11:55:07 UTC". */
export function formatUtcTime(iso: string | undefined): string {
  if (isZeroTime(iso)) return '';
  const d = new Date(iso!);
  if (!Number.isFinite(d.getTime())) return '';
  return d.toISOString().replace('T', ' ').replace(/\.\d{3}Z$/, ' UTC');
}
