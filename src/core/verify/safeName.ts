/**
 * Entry names come from the archive: untrusted. A name may carry terminal escapes
 * ("\x1b[2J"), newlines that fake extra lines, bidi overrides, "../" or an absolute path.
 * We only list, never extract, but what we print must show the name as it is.
 */

/** The name with control and invisible-direction characters made visible, e.g. \x1b → "\\x1b". */
export function displayName(name: string): string {
  let out = '';
  for (const ch of name) {
    const c = ch.codePointAt(0)!;
    if (ch === '\\') out += '\\\\';
    else if (c < 0x20 || c === 0x7f || (c >= 0x80 && c < 0xa0)) out += `\\x${c.toString(16).padStart(2, '0')}`;
    else if ((c >= 0x202a && c <= 0x202e) || (c >= 0x2066 && c <= 0x2069) || c === 0x200e || c === 0x200f || c === 0xfeff) {
      out += `\\u${c.toString(16).padStart(4, '0')}`;
    } else out += ch;
  }
  return out;
}

/** Why a name would be dangerous to extract, or undefined when it is safe. */
export function unsafeNameReason(name: string): string | undefined {
  if (name === '') return 'empty name';
  if (name.startsWith('/')) return 'absolute path';
  if (/^[A-Za-z]:[\\/]/.test(name) || name.startsWith('\\')) return 'absolute Windows path';
  if (name.split(/[\\/]/).includes('..')) return 'contains ".." (points outside the extraction folder)';
  if (/[\x00-\x1f\x7f]/.test(name)) return 'contains control characters';
  return undefined;
}

/** "./a/b/" and "a/b" are the same entry for comparisons. */
export function normalizeEntryName(name: string): string {
  return name.replace(/^(\.\/)+/, '').replace(/\/+$/, '');
}
