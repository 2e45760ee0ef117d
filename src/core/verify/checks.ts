/** The verdict's checks, from what the read collected. The spec's two rules come first. */
import type { UcpError } from '../errors';
import type { DecryptInfo } from '../archive/openpgpDecrypt';
import type { TarScanner } from '../archive/tarScanner';
import { EntryCollector, KEY_PEM, MAX_ETCD_CHECKED, MAX_INDEXED } from './entryCollector';
import type { Check } from './report';
import { displayName, safeText } from './safeName';
import { restorableOn } from './ucpVersion';

/** "In a valid backup file, 27 or more files are displayed in the list" (spec, Verify a UCP backup). */
export const MIN_ENTRIES = 27;

export function buildChecks(x: {
  encrypted: boolean;
  info: DecryptInfo;
  tar: TarScanner;
  collector: EntryCollector;
  decryptError?: UcpError;
  clusterVersion?: string;
}): Check[] {
  const { tar, collector: c } = x;
  const checks: Check[] = [];
  // Names in reasons are escaped where they are put in (displayName); safeText also covers
  // other text from the archive (a version label, a JSON parser's excerpt) without escaping twice.
  const add = (id: Check['id'], title: string, pass: boolean, reason: string) => checks.push({ id, title: safeText(title), pass, reason: safeText(reason) });

  add('entries', `${MIN_ENTRIES} or more entries`, tar.entries >= MIN_ENTRIES, `${tar.entries} entries (directories count)${tar.entries >= MIN_ENTRIES ? '' : `; a UCP backup has at least ${MIN_ENTRIES}`}`);
  const key = c.keyPem;
  add('keyPem', `${KEY_PEM} present`, !!key && key.type === 'file', key ? (key.type === 'file' ? `present, ${key.size} bytes` : `present but a ${key.type}, not a file`) : 'missing: the UCP controller TLS key is not in the archive');

  if (x.encrypted) {
    const what = [x.info.cipher, x.info.compression && `compression ${x.info.compression}`].filter(Boolean).join(', ');
    add('integrity', 'OpenPGP integrity (MDC)', !x.decryptError, x.decryptError ? x.decryptError.message : `decrypted${what ? ` (${what})` : ''}; modification detection code matches`);
  }
  add('tar', 'Tar archive valid and complete', !tar.error && tar.complete, tar.error ?? `complete, ${tar.offset} bytes, end-of-archive marker present`);

  const unsafe = c.unsafe.map((u) => `${displayName(u.name)} (${u.reason})`);
  add('names', 'Entry names safe to list and extract', c.unsafeCount === 0, c.unsafeCount === 0 ? 'no absolute paths, ".." or control characters' : `${c.unsafeCount} unsafe: ${unsafe.slice(0, 5).join('; ')}`);

  const manifest = c.manifestResult();
  const manifestTitle = c.hashEntries ? 'Manifest SHA-256s match' : 'Manifest entries and sizes match';
  if (manifest) {
    if ('error' in manifest) add('manifest', manifestTitle, false, `${displayName(manifest.name)}: ${manifest.error}`);
    else if (c.indexOverflow) add('manifest', manifestTitle, false, `more than ${MAX_INDEXED.toLocaleString('en-US')} entries (or names longer than verify keeps): too many to compare with the manifest`);
    else add('manifest', manifestTitle, manifest.pass, manifest.reason);
  }

  if (c.etcd.length === 0) add('etcd', 'etcd snapshot header sane', false, 'no ./ucp-backup/<id>/etcd.backup.db in the archive');
  for (const e of c.etcd) {
    const r = e.observer.result ?? { pass: false, reason: 'the snapshot entry is incomplete' };
    add('etcd', 'etcd snapshot header sane', r.pass, `${displayName(e.name)}: ${r.reason}`);
  }
  if (c.etcdUnchecked > 0) {
    add('etcd', 'etcd snapshot header sane', false, `${c.etcdUnchecked} more etcd snapshots not checked (verify checks the first ${MAX_ETCD_CHECKED}; a UCP backup has one)`);
  }

  const v = c.ucpVersion;
  add('ucpVersion', 'UCP version found', !!v, v ? `${v.version} (from ${displayName(v.from)})` : 'no com.docker.ucp.version label, ucp image tag or manifest in the archive');
  if (x.clusterVersion) {
    const r = v ? restorableOn(v.version, x.clusterVersion) : { pass: false, reason: 'the backup version is unknown' };
    add('restorable', `Restorable on UCP ${x.clusterVersion}`, r.pass, r.reason);
  }
  return checks;
}
