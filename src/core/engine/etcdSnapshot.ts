/**
 * The etcd step: a real `etcdctl snapshot save` inside `ucp-kv` (real-backup-layout.md:
 * "an etcd snapshot of the ucp-kv store, not a copy of its data directory"), checked with
 * `etcdctl snapshot status`, copied out with `GET archive`, then deleted in the container.
 * The container's own ETCDCTL_* environment is tried first; then the certificate paths real
 * UCP mounts in ucp-kv (ucp-kv-certs at /etc/docker/ssl, client URL https://127.0.0.1:2379).
 */
import type { Readable } from 'node:stream';
import type Docker from 'dockerode';
import * as tar from 'tar-stream';
import type { ArchiveWriter } from './archiveWriter';
import { execShort, dockerMessage } from './dockerStreams';
import { BackupStepError } from './errors';
import { throwIfAborted } from '../errors';

const REAL_UCP_FLAGS = ['--endpoints', 'https://127.0.0.1:2379', '--cacert', '/etc/docker/ssl/ca.pem', '--cert', '/etc/docker/ssl/cert.pem', '--key', '/etc/docker/ssl/key.pem'];

export interface SnapshotStatus {
  hash: number;
  revision: number;
  totalKey: number;
  totalSize: number;
}

function snapshotPath(runId: string): string {
  return `/tmp/ucp-backup-${runId}.etcd.db`;
}

/**
 * A run killed during the etcd step (SIGKILL: no `finally`) leaves its snapshot, as big as
 * the key-value store, in ucp-kv's /tmp. The next backup removes those of the given dead runs.
 */
export async function removeStaleSnapshots(kv: Docker.Container, deadRunIds: string[]): Promise<void> {
  if (!deadRunIds.length) return;
  const r = await execShort(kv, ['rm', '-f', ...deadRunIds.flatMap((id) => [snapshotPath(id), `${snapshotPath(id)}.part`])]);
  if (r.exitCode !== 0) throw new Error(r.stderr.trim() || `rm exit ${r.exitCode}`);
}

/**
 * The live store's key count at the snapshot's revision (`get --rev`: no race with writes
 * since), for the restore drill to compare with what the restored member serves. (totalKey
 * of `snapshot status` counts every stored revision of every key, not the keys.) Undefined
 * when etcd cannot say (compacted past it meanwhile): the drill then does not compare.
 */
async function liveKeysAt(kv: Docker.Container, flags: string[], env: string[], revision: number, signal?: AbortSignal): Promise<number | undefined> {
  // A range's `count` is every key in it whatever the limit (etcdctl 3.4 has no --count-only).
  const r = await execShort(kv, ['etcdctl', ...flags, 'get', '', '--from-key', '--keys-only', '--limit=1', `--rev=${revision}`, '-w', 'json'], { env, signal });
  const count = r.exitCode === 0 ? Number((JSON.parse(r.stdout) as { count?: number }).count ?? 0) : NaN;
  return Number.isSafeInteger(count) ? count : undefined;
}

export async function etcdSnapshot(kv: Docker.Container, runId: string, entryName: string, writer: ArchiveWriter, log: (l: string) => void, signal?: AbortSignal): Promise<SnapshotStatus & { keys?: number }> {
  const info = await kv.inspect();
  if (!info.State.Running || info.State.Restarting) throw new BackupStepError('etcd', 'ucp-kv is not running', 'Start ucp-kv (the UCP reconciler normally does) and retry.');
  const env = ['ETCDCTL_API=3'];
  const hasOwnCerts = (info.Config.Env ?? []).some((e) => e.startsWith('ETCDCTL_CACERT=') || e.startsWith('ETCDCTL_CA_FILE='));
  const flagSets = hasOwnCerts ? [[], REAL_UCP_FLAGS] : [REAL_UCP_FLAGS, []];
  const path = snapshotPath(runId);
  let flags: string[] | undefined;
  const errors: string[] = [];
  try {
    for (const f of flagSets) {
      const r = await execShort(kv, ['etcdctl', ...f, 'snapshot', 'save', path], { env, signal });
      if (r.exitCode === 0) {
        flags = f;
        break;
      }
      errors.push((r.stderr || r.stdout).trim().split('\n').slice(-1)[0]);
    }
    if (!flags) throw new BackupStepError('etcd', `etcdctl snapshot save failed in ucp-kv: ${errors.join(' / ')}`, 'Check that ucp-kv is healthy: docker exec ucp-kv etcdctl endpoint health.');
    log(`etcd: snapshot saved in ucp-kv at ${path}`);
    const st = await execShort(kv, ['etcdctl', 'snapshot', 'status', path, '-w', 'json'], { env, signal });
    if (st.exitCode !== 0) throw new BackupStepError('etcd', `etcdctl snapshot status rejects the snapshot: ${st.stderr.trim()}`);
    const status = JSON.parse(st.stdout) as SnapshotStatus;
    log(`etcd: snapshot status hash=${status.hash} revision=${status.revision} keys=${status.totalKey} size=${status.totalSize}`);
    const keys = await liveKeysAt(kv, flags, env, status.revision, signal);
    if (keys !== undefined) log(`etcd: the live store held ${keys} keys at revision ${status.revision}`);
    throwIfAborted(signal);
    await copySingleFile(kv, path, entryName, writer, signal);
    return { ...status, keys };
  } finally {
    // Remove the snapshot (and etcdctl's ".part" temp) from the container even on failure/cancel.
    await execShort(kv, ['rm', '-f', path, `${path}.part`]).catch((err) => log(`etcd: could not remove ${path} in ucp-kv: ${dockerMessage(err)}`));
  }
}

/** Copies one file out of a container (GET archive) into the archive as a nobody-owned 0600 entry, like the real layout. */
async function copySingleFile(c: Docker.Container, path: string, entryName: string, writer: ArchiveWriter, signal?: AbortSignal): Promise<void> {
  const stream = (await c.getArchive({ path, abortSignal: signal } as { path: string })) as unknown as Readable;
  const extract = tar.extract();
  stream.on('error', (err) => extract.destroy(err));
  stream.pipe(extract as unknown as NodeJS.WritableStream);
  let found = false;
  for await (const entry of extract) {
    if (!found && entry.header.type === 'file') {
      found = true;
      await writer.addStream({ name: entryName, mode: 0o600, uid: 65534, gid: 65534, uname: 'nobody', gname: 'nobody', mtime: new Date() }, entry.header.size, entry as unknown as AsyncIterable<Buffer>);
    } else {
      entry.resume();
    }
  }
  if (!found) throw new BackupStepError('etcd', `${path} was not found in ucp-kv after the snapshot`);
}
