/** Compares two verify reports entry by entry: what a newer backup added, removed or changed. */
import type { EntryInfo, VerifyReport } from './report';
import { normalizeEntryName } from './safeName';

export interface ChangedEntry {
  name: string;
  a: EntryInfo;
  b: EntryInfo;
  /** What differs: "size", "sha256", "type", "mode", "owner", "mtime". */
  what: string[];
}

export interface BackupDiff {
  added: EntryInfo[];
  removed: EntryInfo[];
  changed: ChangedEntry[];
  /** Unchanged entries (content and metadata that matter). */
  same: number;
  /** True when a report lists only part of its entries: the diff then covers those only. */
  partial: boolean;
}

export function diffBackups(a: VerifyReport, b: VerifyReport): BackupDiff {
  const index = (r: VerifyReport) => new Map(r.entries.map((e) => [diffKey(e.name), e] as const));
  const ia = index(a);
  const ib = index(b);
  const out: BackupDiff = { added: [], removed: [], changed: [], same: 0, partial: a.truncatedListing || b.truncatedListing };
  for (const [name, ea] of ia) {
    const eb = ib.get(name);
    if (!eb) {
      out.removed.push(ea);
      continue;
    }
    const what: string[] = [];
    if (ea.type !== eb.type) what.push('type');
    if (ea.size !== eb.size) what.push('size');
    else if (ea.sha256 && eb.sha256 && ea.sha256 !== eb.sha256) what.push('sha256');
    if (ea.mode !== eb.mode) what.push('mode');
    if (ea.uid !== eb.uid || ea.gid !== eb.gid) what.push('owner');
    if (what.length) out.changed.push({ name: eb.name, a: ea, b: eb, what });
    else out.same++;
  }
  for (const [name, eb] of ib) if (!ia.has(name)) out.added.push(eb);
  return out;
}

/** Each backup writes its etcd and auth dumps under ./ucp-backup/<epoch-ms>/: match them across backups. */
function diffKey(name: string): string {
  return normalizeEntryName(name).replace(/^ucp-backup\/\d+(\/|$)/, 'ucp-backup/*$1');
}
