/**
 * The one message protocol between the extension host and the details webview
 * (webview-ui/). Both sides import this file, so a renamed field breaks the build.
 * Everything here is plain JSON: it crosses postMessage (structured clone).
 */
import type { EntryInfo, EntryType } from '../core/archive/entry';
import type { BackupRecord } from '../core/history/record';

export type { BackupRecord, EntryType };

/** What a panel shows, by reference only: this is all the webview keeps in its state. */
export type PanelRef =
  | { kind: 'backup'; cluster: string; id: string }
  | { kind: 'file'; path: string }
  | { kind: 'compare'; a: PanelRef; b: PanelRef };

/** One member of the decrypted archive: the verify report's entry as it is. */
export type EntryView = EntryInfo;

export interface CheckView {
  id: string;
  title: string;
  pass: boolean;
  reason: string;
  /** A restore drill's third state (WARN passes); verify's checks have only `pass`. */
  status?: 'PASS' | 'WARN' | 'FAIL';
}

export interface ReportView {
  /** VALID/INVALID: a verify report; PASS/WARN/FAIL: a restore drill's. */
  verdict: 'VALID' | 'INVALID' | 'PASS' | 'WARN' | 'FAIL';
  /** The heading ("Verify report" when absent). */
  title?: string;
  /** What was verified: a file path or "<node>:<hostPath>". */
  source: string;
  encrypted: boolean;
  entryCount: number;
  checks: CheckView[];
  entries: EntryView[];
  size?: number;
  sha256?: string;
  ucpVersion?: string;
  /** Only the first entries are listed (all were counted and checked). */
  truncated?: boolean;
}

export interface DiffChangeView {
  name: string;
  a: EntryView;
  b: EntryView;
  /** Which fields differ: 'size', 'mode', 'sha256', … */
  fields: string[];
}

export interface DiffView {
  added: EntryView[];
  removed: EntryView[];
  changed: DiffChangeView[];
  unchanged: number;
  /** A report listed only part of its entries: the diff covers those only. */
  partial?: boolean;
}

export interface CompareSide {
  label: string;
  record?: BackupRecord;
  report: ReportView;
}

export type PanelContent =
  | { kind: 'details'; ref: PanelRef; record?: BackupRecord; report?: ReportView }
  | { kind: 'compare'; ref: PanelRef; a: CompareSide; b: CompareSide; diff: DiffView };

/** Host → webview. */
export type HostMessage =
  | { type: 'init'; content: PanelContent }
  | { type: 'progress'; message: string; percent?: number }
  | { type: 'report'; report: ReportView }
  | { type: 'error'; message: string };

/** Webview → host. */
export type WebviewMessage =
  | { type: 'ready' }
  /** Decrypt and list the backup shown (the passphrase is asked for by the host, never here). */
  | { type: 'requestVerify' }
  | { type: 'revealFile' }
  | { type: 'showLog' };

/** What the webview persists with vscode.setState: references and view settings, never secrets. */
export interface WebviewState {
  ref?: PanelRef;
  filter?: string;
  sort?: { column: SortColumn; descending: boolean };
  tab?: string;
}

export type SortColumn = 'name' | 'type' | 'size' | 'mode' | 'owner' | 'mtime';

export const WEBVIEW_VIEW_TYPE = 'ucpBackup.details';

export function isWebviewMessage(value: unknown): value is WebviewMessage {
  if (!value || typeof value !== 'object') return false;
  const t = (value as { type?: unknown }).type;
  return t === 'ready' || t === 'requestVerify' || t === 'revealFile' || t === 'showLog';
}
