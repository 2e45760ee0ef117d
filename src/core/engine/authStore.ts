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
  onPause: (paused: boolean) => void,
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
    if (info.State.Running && !info.State.Paused) {
      await authStore.pause();
      paused = true;
      onPause(true);
      log('rethinkdb: ucp-auth-store paused for a consistent copy of its data');
    }
    const src = (await reader.getArchive({ path: `/${mount.Name}/.`, abortSignal: signal } as { path: string })) as unknown as Readable;
    await pipeline(src, createGzip(), createWriteStream(file, { mode: 0o600 }), { signal });
  } catch (err) {
    if (err instanceof BackupStepError || signal?.aborted) throw err;
    throw new BackupStepError('rethinkdb', `copying the auth store failed: ${dockerMessage(err)}`, undefined, { cause: err });
  } finally {
    if (paused) {
      await authStore.unpause().catch((err) => log(`rethinkdb: could not unpause ucp-auth-store: ${dockerMessage(err)} — run: docker unpause ucp-auth-store`));
      onPause(false);
      log('rethinkdb: ucp-auth-store unpaused');
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
 * logins hang. The next backup, holding the lock, knows no backup is copying it and resumes it.
 */
export async function unpauseAuthStoreLeftPaused(docker: Docker, authStoreId: string | undefined, log: (l: string) => void): Promise<void> {
  if (!authStoreId) return;
  const c = docker.getContainer(authStoreId);
  const info = await c.inspect();
  if (!info.State.Paused) return;
  await c.unpause();
  log('validation: ucp-auth-store was left paused by an interrupted backup; unpaused it');
}
