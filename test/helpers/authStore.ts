/**
 * Real `auth-store.tar.gz` files, made by GNU tar: what the built-in engine writes (a copy of
 * the ucp-auth-store-data volume: a RethinkDB data directory) and what `rethinkdb dump`
 * writes for the official engine (`rethinkdb_dump_<date>/<db>/<table>.json` + `.info`).
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BACKUP_STAMP } from './archives';

export const AUTH_STORE_ENTRY = `ucp-backup/${BACKUP_STAMP}/auth-store.tar.gz`;

export function authStoreTarGz(root: string, kind: 'volume-copy' | 'dump'): Buffer {
  const d = join(root, `auth-${kind}-${Math.random().toString(36).slice(2, 8)}`);
  const files = kind === 'volume-copy'
    ? { 'rethinkdb_data/metadata': 'm', 'rethinkdb_data/log_file': 'info: Running rethinkdb 2.3.6', 'rethinkdb_data/6a3f0e52-5b8c-4c8e-9a55-0d7c2b1e9f01': 'table' }
    : { 'rethinkdb_dump_2026_12_03/enzi/accounts.json': '[]', 'rethinkdb_dump_2026_12_03/enzi/accounts.info': '{}', 'rethinkdb_dump_2026_12_03/enzi/teams.json': '[]', 'rethinkdb_dump_2026_12_03/enzi/teams.info': '{}' };
  for (const [n, c] of Object.entries(files)) {
    mkdirSync(join(d, n, '..'), { recursive: true });
    writeFileSync(join(d, n), c);
  }
  execFileSync('tar', ['-czf', `${d}.tar.gz`, '-C', d, '.']);
  return readFileSync(`${d}.tar.gz`);
}
