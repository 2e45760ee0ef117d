/**
 * Our engine's manifest, `./ucp-backup/<epoch-ms>/manifest.json`: the size and SHA-256 of
 * every other entry, so verify can tell a damaged or altered archive from a good one even
 * when it is not encrypted.
 */
import type { ManifestSummary } from './report';
import { normalizeEntryName } from './safeName';
import { displayName } from './safeName';

export const MANIFEST_ENTRY = /^(\.\/)?ucp-backup\/[^/]+\/manifest\.json$/;
export const MANIFEST_FORMAT = 'ucp-backup-manifest/1';

export interface Manifest {
  format: string;
  ucpVersion?: string;
  imageNamespace?: string;
  node?: string;
  engine?: string;
  created_at?: string;
  /** Our engine writes `created`. */
  created?: string;
  entries: { name: string; size?: number; sha256?: string }[];
}

export function parseManifest(text: string): Manifest | string {
  let m: Manifest;
  try {
    m = JSON.parse(text) as Manifest;
  } catch (err) {
    return `the manifest is not valid JSON (${(err as Error).message})`;
  }
  if (!m || m.format !== MANIFEST_FORMAT) return `unknown manifest format ${JSON.stringify(m?.format)}`;
  if (!Array.isArray(m.entries) || m.entries.some((e) => !e || typeof e.name !== 'string')) return 'the manifest has no valid "entries" list';
  return m;
}

export interface SeenEntry {
  size: number;
  sha256?: string;
}

/** Compares the manifest with what the archive holds; `seen` is keyed by normalized name. */
export function checkManifest(
  entryName: string,
  m: Manifest,
  seen: Map<string, SeenEntry>,
  hashed = true,
): { summary: ManifestSummary; pass: boolean; reason: string } {
  const problems: string[] = [];
  const listed = new Set<string>();
  for (const e of m.entries) {
    const key = normalizeEntryName(e.name);
    listed.add(key);
    const got = seen.get(key);
    if (!got) problems.push(`${displayName(e.name)} missing`);
    else if (typeof e.size === 'number' && e.size !== got.size) problems.push(`${displayName(e.name)} is ${got.size} bytes, manifest says ${e.size}`);
    else if (e.sha256 && got.sha256 && e.sha256.toLowerCase() !== got.sha256) problems.push(`${displayName(e.name)} SHA-256 differs`);
  }
  const self = normalizeEntryName(entryName);
  for (const name of seen.keys()) {
    // Directories that only hold listed files need not be listed themselves.
    if (name !== self && !listed.has(name) && !isParentOfListed(name, listed)) problems.push(`${displayName(name)} not in the manifest`);
  }
  const summary: ManifestSummary = {
    entry: entryName,
    format: m.format,
    ucpVersion: m.ucpVersion,
    node: m.node,
    engine: m.engine,
    created_at: m.created_at ?? m.created,
    entries: m.entries.length,
    mismatches: problems.slice(0, 20),
  };
  if (problems.length === 0) {
    const how = hashed ? 'size and SHA-256' : 'size (their bytes are covered by the OpenPGP integrity check)';
    return { summary, pass: true, reason: `all ${m.entries.length} entries match their ${how}` };
  }
  const more = problems.length > 5 ? ` and ${problems.length - 5} more` : '';
  return { summary, pass: false, reason: `${problems.slice(0, 5).join('; ')}${more}` };
}

function isParentOfListed(dir: string, listed: Set<string>): boolean {
  for (const l of listed) if (l.startsWith(dir + '/')) return true;
  return false;
}
