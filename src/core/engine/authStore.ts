/**
 * The rethinkDB step: `auth-store.tar.gz`, the auth store data. Real UCP dumps RethinkDB
 * through its own client; this engine copies the `ucp-auth-store-data` volume instead and,
 * to make the copy consistent, pauses `ucp-auth-store` for the copy only (said in the log and
 * the progress message), unpausing it in `finally` even on failure or cancel. The gzip goes
 * to a local temp file first because a tar entry needs its size up front.
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import type Docker from 'dockerode';
import type { ArchiveWriter } from './archiveWriter';
import type { BackupRecord } from '../history/record';
import { BackupStepError } from './errors';
import { createVolumeReader, type HelperOptions } from './volumeEntries';
import { removeQuietly, dockerMessage } from './dockerStreams';

export const AUTH_STORE_VOLUME = 'ucp-auth-store-data';

export async function authStoreDump(
  docker: Docker,
  authStore: Docker.Container,
  helper: HelperOptions,
  entryName: string,
  writer: ArchiveWriter,
  log: (l: string) => void,
  /** Awaited before the pause (true: the run's record says so first, for crash recovery) and after the unpause (false). */
  onPause: (paused: boolean) => Promise<void> | void,
  signal?: AbortSignal,
): Promise<number> {
  const info = await authStore.inspect();
  const mount = (info.Mounts ?? []).find((m) => m.Type === 'volume' && m.Name === AUTH_STORE_VOLUME);
  if (!mount?.Name) throw new BackupStepError('rethinkdb', `ucp-auth-store does not mount the ${AUTH_STORE_VOLUME} volume`);
  const dir = await mkdtemp(join(tmpdir(), 'ucp-backup-auth-'));
  const file = join(dir, 'auth-store.tar.gz');
  const reader = await createVolumeReader(docker, [mount.Name], helper, 'auth');
  let paused = false;
  try {
    // Paused by someone else already: copy as it is, and leave it paused.
    if (info.State.Running && !info.State.Paused) {
      await onPause(true);
      await authStore.pause();
      paused = true;
      log('rethinkdb: ucp-auth-store paused for a consistent copy of its data');
    }
    const src = (await reader.getArchive({ path: `/${mount.Name}/.`, abortSignal: signal } as { path: string })) as unknown as Readable;
    await pipeline(src, createGzip(), createWriteStream(file, { mode: 0o600 }), { signal });
  } catch (err) {
    if (err instanceof BackupStepError || signal?.aborted) throw err;
    throw new BackupStepError('rethinkdb', `copying the auth store failed: ${dockerMessage(err)}`, undefined, { cause: err });
  } finally {
    if (paused) {
      const resumed = await authStore.unpause().then(
        () => true,
        (err) => (log(`rethinkdb: could not unpause ucp-auth-store: ${dockerMessage(err)} — run: docker unpause ucp-auth-store`), false),
      );
      if (resumed) {
        log('rethinkdb: ucp-auth-store unpaused');
        await Promise.resolve(onPause(false)).catch(() => undefined);
      }
    }
    await removeQuietly(reader);
  }
  try {
    const { size } = await stat(file);
    await writer.addStream({ name: entryName, mode: 0o644, uid: 65534, gid: 65534, uname: 'nobody', gname: 'nobody', mtime: new Date() }, size, createReadStream(file));
    return size;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * A run killed during the copy (SIGKILL: no `finally`) leaves ucp-auth-store paused, and UCP
 * logins hang. The next backup, holding the lock, knows no backup is copying it; it resumes it
 * only when a record of ours says that run paused it (`authStorePaused`, set before pausing):
 * a pause made by someone else (an admin, another tool) is theirs and is left alone.
 * Returns the records whose pause it undid (or whose mark was stale), with the flag cleared,
 * for the caller to store.
 */
export async function unpauseAuthStoreLeftPaused(docker: Docker, authStoreId: string | undefined, others: BackupRecord[], log: (l: string) => void): Promise<BackupRecord[]> {
  if (!authStoreId) return [];
  const c = docker.getContainer(authStoreId);
  const info = await c.inspect();
  const ours = others.filter((r) => r.authStorePaused);
  // Not paused, yet a record says a run of ours paused it: that mark is stale (a run whose
  // "paused" write reached the swarm only after it had given up, or whose unpause was not
  // stored). Cleared, so it cannot later pass someone else's pause off as ours.
  if (!info.State.Paused) return ours.map((r) => ({ ...r, authStorePaused: false }));
  if (ours.length === 0) {
    log('validation: ucp-auth-store is paused, not by a backup of ours: left paused (the copy works while it is paused)');
    return [];
  }
  await c.unpause();
  log(`validation: ucp-auth-store was left paused by an interrupted backup; unpaused it (backup ${ours.map((r) => r.id).join(', ')})`);
  return ours.map((r) => ({ ...r, authStorePaused: false }));
}
