/**
 * One archive member as verify lists it: shared by the tar scanner, the verify report and
 * the webview protocol (src/shared/protocol.ts). Plain types only, no Node imports, so the
 * webview's build can read this file too.
 */
export type EntryType = 'file' | 'hardlink' | 'symlink' | 'char' | 'block' | 'directory' | 'fifo' | 'contiguous' | 'sparse' | 'other';

export interface EntryInfo {
  name: string;
  type: EntryType;
  size: number;
  /** Permission bits, e.g. 0o644. */
  mode: number;
  uid: number;
  gid: number;
  uname?: string;
  gname?: string;
  /** ISO 8601. */
  mtime: string;
  /** Symlink / hard link target. */
  linkname?: string;
  /** SHA-256 (hex) of the entry's data, for regular files. */
  sha256?: string;
}
