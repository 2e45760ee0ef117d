/**
 * What `auth-store.tar.gz` really is, read from its content: a RethinkDB dump
 * (`rethinkdb dump`, what the official engine writes: `rethinkdb_dump_<date>/<db>/<table>.json`
 * with a `.info` beside each table) or a file-level copy of the `ucp-auth-store-data` volume
 * (the built-in engine: a RethinkDB data directory, `metadata` and `log_file`, copied with
 * ucp-auth-store paused). Streamed through gunzip and the tar scanner: bounded memory.
 */
import { createReadStream } from 'node:fs';
import { createGunzip } from 'node:zlib';
import { TarScanner } from '../archive/tarScanner';
import { normalizeEntryName } from '../verify/safeName';
import { check, type DrillCheck, type DrillReport } from './report';

export type AuthStoreKind = NonNullable<DrillReport['authStore']>['kind'];

export interface AuthStoreResult {
  check: DrillCheck;
  info?: NonNullable<DrillReport['authStore']>;
}

const TITLE = 'Auth store (auth-store.tar.gz) opens';

export async function inspectAuthStore(path: string, pausedMs?: number, signal?: AbortSignal): Promise<AuthStoreResult> {
  let entries = 0;
  let dumpTables = 0;
  let dumpDir = false;
  let dataDir = 0;
  const tar = new TarScanner((h) => {
    entries++;
    const name = normalizeEntryName(h.name);
    const base = name.split('/').pop() ?? '';
    if (/^rethinkdb_dump_[^/]*(\/|$)/.test(name)) dumpDir = true;
    if (h.type === 'file' && base.endsWith('.info')) dumpTables++;
    // RethinkDB's data directory always holds these two files (rethinkdb_data/ by default).
    if (h.type === 'file' && (base === 'metadata' || base === 'log_file')) dataDir++;
    return undefined;
  });
  const gunzip = createGunzip();
  const file = createReadStream(path);
  file.on('error', (err) => gunzip.destroy(err));
  try {
    for await (const chunk of file.pipe(gunzip)) {
      if (signal?.aborted) break;
      tar.write(chunk as Buffer);
    }
  } catch (err) {
    file.destroy();
    return { check: check('authStore', TITLE, 'FAIL', `it is not a readable gzip file (${(err as Error).message})`) };
  }
  tar.end();
  if (tar.error) return { check: check('authStore', TITLE, 'FAIL', `the gzip holds no valid tar: ${tar.error}`) };

  let kind: AuthStoreKind = 'unknown';
  let what: string;
  if (dumpDir || dumpTables > 0) {
    kind = 'rethinkdb-dump';
    what = `a RethinkDB dump (rethinkdb dump, as the official backup writes it), ${dumpTables} tables`;
  } else if (dataDir >= 2) {
    kind = 'volume-copy';
    const paused = pausedMs !== undefined ? `, ucp-auth-store paused for ${(pausedMs / 1000).toFixed(1)} s` : ', taken with ucp-auth-store paused (how long is not recorded)';
    what = `a file-level copy of the ucp-auth-store-data volume (a RethinkDB data directory, the built-in engine's method)${paused}`;
  } else what = 'neither a RethinkDB dump nor a RethinkDB data directory: its content is not recognised';
  const status = kind === 'unknown' ? 'WARN' : 'PASS';
  return { check: check('authStore', TITLE, status, `${entries} entries: ${what}`), info: { kind, entries, pausedMs } };
}
