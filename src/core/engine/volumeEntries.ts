/**
 * Reads named volumes through the Docker archive API: a helper container, created from an
 * image already on the node and never started, mounts the volumes read-only; `GET archive`
 * on it streams each volume as a tar (works on a never-started container, TESTBED.md).
 * Entries are re-rooted to `./<volume>/…` (the real backup layout) keeping owner, mode and
 * mtime, and streamed into the archive one at a time.
 */
import type { Readable } from 'node:stream';
import type Docker from 'dockerode';
import * as tar from 'tar-stream';
import type { ArchiveWriter, EntryHeader } from './archiveWriter';
import { createHelper, dockerMessage } from './dockerStreams';
import { throwIfAborted } from '../errors';

/** The certificate volumes the real backup holds (real-backup-layout.md). Not ucp-node-certs / ucp-metrics-data (spec). */
export const BACKED_UP_VOLUMES = ['ucp-client-root-ca', 'ucp-cluster-root-ca', 'ucp-controller-server-certs'] as const;
/** The spec's "Data not included in the backup". */
export const NOT_BACKED_UP = ['ucp-metrics-data', 'ucp-node-certs'] as const;

export interface HelperOptions {
  image: string;
  runId: string;
  selinux: boolean;
}

/** A never-started container mounting `volumes` read-only at `/<volume>`. */
export function createVolumeReader(docker: Docker, volumes: readonly string[], h: HelperOptions, purpose: string): Promise<Docker.Container> {
  return createHelper(docker, {
    runId: h.runId,
    purpose,
    Image: h.image,
    Entrypoint: ['/ucp-backup-helper-never-started'],
    HostConfig: {
      Binds: volumes.map((v) => `${v}:/${v}:ro`),
      SecurityOpt: h.selinux ? ['label=disable'] : undefined,
    },
  });
}

/** Maps a name from `GET archive?path=/<vol>/.` ("./x", "vol/x" or "x") to "./<vol>/x". */
export function reroot(volume: string, name: string): string {
  const parts = name.replace(/^\.?\/+/, '').split('/').filter((p) => p !== '' && p !== '.');
  if (parts[0] === volume) parts.shift();
  return parts.length ? `./${volume}/${parts.join('/')}` : `./${volume}/`;
}

/** Streams each entry of a Docker archive tar into the writer under `./<volume>/`. */
export async function copyArchive(src: Readable, volume: string, writer: ArchiveWriter, signal?: AbortSignal, onBytes?: (n: number) => void): Promise<number> {
  const extract = tar.extract();
  src.on('error', (err) => extract.destroy(err));
  src.pipe(extract as unknown as NodeJS.WritableStream);
  let count = 0;
  for await (const entry of extract) {
    throwIfAborted(signal);
    const h = entry.header;
    const name = reroot(volume, h.name);
    const header: EntryHeader = {
      name: h.type === 'directory' && !name.endsWith('/') ? name + '/' : name,
      mode: h.mode,
      uid: h.uid,
      gid: h.gid,
      uname: h.uname,
      gname: h.gname,
      mtime: h.mtime,
      type: h.type,
      linkname: h.type === 'link' && h.linkname ? reroot(volume, h.linkname) : h.linkname,
    };
    if (h.type === 'file' || h.type === 'contiguous-file') {
      await writer.addStream({ ...header, type: 'file' }, h.size, entry as unknown as AsyncIterable<Buffer>, onBytes);
    } else {
      entry.resume();
      await writer.addEmpty(header);
    }
    count++;
  }
  return count;
}

export async function backupVolume(reader: Docker.Container, volume: string, writer: ArchiveWriter, signal?: AbortSignal, onBytes?: (n: number) => void): Promise<number> {
  let stream: Readable;
  try {
    stream = (await reader.getArchive({ path: `/${volume}/.`, abortSignal: signal } as { path: string })) as unknown as Readable;
  } catch (err) {
    throwIfAborted(signal);
    throw new Error(`cannot read volume ${volume}: ${dockerMessage(err)}`);
  }
  const onAbort = () => stream.destroy(new Error('cancelled'));
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    return await copyArchive(stream, volume, writer, signal, onBytes);
  } finally {
    signal?.removeEventListener('abort', onAbort);
    stream.destroy();
  }
}
