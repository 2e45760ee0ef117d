/**
 * Entry names come from the archive: untrusted. A name may carry terminal escapes
 * ("\x1b[2J", or the one-byte C1 CSI "\x9b"), newlines that fake extra lines, bidi controls
 * that reverse what follows ("invoice\u202efdp.exe"), "../" or an absolute path. We only
 * list, never extract, but what we print must show the name as it is.
 *
 * One rule for every place a name is shown (CLI, report reasons, webview): a name is escaped
 * with displayName() once, where it enters a text; text that may hold such names (reasons)
 * goes out through safeText(), which escapes the same characters but leaves backslashes
 * alone, so an escaped name passes through it unchanged (no double escaping).
 */

/** C0, DEL, C1 and the bidirectional controls (ALM, LRM, RLM, LRE…RLO, LRI…PDI): unsafe in a name. */
const CONTROLS = '\\u0000-\\u001f\\u007f-\\u009f\\u061c\\u200e\\u200f\\u202a-\\u202e\\u2066-\\u2069';
/** Invisible but not controls (zero-width space/joiners, line/paragraph separators, BOM): shown escaped, not flagged. */
const INVISIBLE = '\\u200b-\\u200d\\u2028\\u2029\\ufeff';

const CONTROL = new RegExp(`[${CONTROLS}]`, 'u');
const SHOWN_ESCAPED = new RegExp(`[${CONTROLS}${INVISIBLE}]`, 'gu');
const SHOWN_ESCAPED_OR_BACKSLASH = new RegExp(`[\\\\${CONTROLS}${INVISIBLE}]`, 'gu');

function escapeChar(ch: string): string {
  if (ch === '\\') return '\\\\';
  const c = ch.codePointAt(0)!;
  return c <= 0xff ? `\\x${c.toString(16).padStart(2, '0')}` : `\\u${c.toString(16).padStart(4, '0')}`;
}

/** The name with control and invisible characters made visible (\x1b → "\\x1b"), backslashes doubled so the escapes are unambiguous. */
export function displayName(name: string): string {
  return name.replace(SHOWN_ESCAPED_OR_BACKSLASH, escapeChar);
}

/** Text that may contain names already escaped by displayName(): the same characters escaped, backslashes kept. Idempotent. */
export function safeText(text: string): string {
  return text.replace(SHOWN_ESCAPED, escapeChar);
}

/** Why a name would be dangerous to extract or print, or undefined when it is safe. */
export function unsafeNameReason(name: string): string | undefined {
  if (name === '') return 'empty name';
  if (name.startsWith('/')) return 'absolute path';
  if (/^[A-Za-z]:[\\/]/.test(name) || name.startsWith('\\')) return 'absolute Windows path';
  if (name.split(/[\\/]/).includes('..')) return 'contains ".." (points outside the extraction folder)';
  const control = CONTROL.exec(name);
  if (control) return `contains control characters (${escapeChar(control[0])})`;
  return undefined;
}

/** "./a/b/" and "a/b" are the same entry for comparisons. */
export function normalizeEntryName(name: string): string {
  return name.replace(/^(\.\/)+/, '').replace(/\/+$/, '');
}
