/**
 * What our built-in engine's manifest (builtinEngine.ts) records for the drill to compare:
 * the etcd snapshot's status as `etcdctl snapshot status` gave it in ucp-kv right after the
 * save (its revision is the live store's at the snapshot), the number of keys the live store
 * held at that revision (`keys`, asked of ucp-kv after the save), and how the auth store was
 * copied. The manifest is archive content, so untrusted:
 * only finite numbers are taken.
 */
import { parseManifest } from '../verify/manifest';

export interface ManifestFigures {
  etcd?: { revision?: number; totalKey?: number; hash?: number; keys?: number };
  authPausedMs?: number;
}

export function manifestFigures(text: string | undefined): ManifestFigures {
  if (text === undefined) return {};
  const m = parseManifest(text);
  if (typeof m === 'string') return {};
  const x = m as unknown as { etcd?: Record<string, unknown>; authStore?: Record<string, unknown> };
  const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
  const etcd = x.etcd && typeof x.etcd === 'object' ? { revision: num(x.etcd.revision), totalKey: num(x.etcd.totalKey), hash: num(x.etcd.hash), keys: num(x.etcd.keys) } : undefined;
  const any = etcd && (etcd.revision !== undefined || etcd.totalKey !== undefined || etcd.keys !== undefined);
  return { etcd: any ? etcd : undefined, authPausedMs: x.authStore && typeof x.authStore === 'object' ? num(x.authStore.pausedMs) : undefined };
}
