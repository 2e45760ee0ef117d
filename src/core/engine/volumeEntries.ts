/**
 * Reads named volumes through the Docker archive API: a helper container, created from an
 * image already on the node and never started, mounts the volumes read-only; `GET archive`
 * on it streams each volume as a tar (works on a never-started container, TESTBED.md).
 * Entries are re-rooted to `./<volume>/…` (the real backup layout) keeping owner, mode and
 * mtime, and streamed into the archive one at a time, in a single pass (TarReader).
 */
import type { Readable } from 'node:stream';
import type Docker from 'dockerode';
import type { ArchiveWriter, EntryHeader } from './archiveWriter';
import { createHelper, dockerMessage } from './dockerStreams';
import { throwIfAborted } from '../errors';
import { decodeHeader, decodeLongPath, decodePax, type TarHeader } from './tarHeaders';

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

/** Long headers (PAX, GNU long names) bigger than this are refused, as tar-stream did. */
const MAX_LONG_HEADER = 4 * 1024 * 1024;

/**
 * A push parser for the Docker archive tar: decodes headers (PAX and GNU long names applied
 * as tar-stream did) and hands entry data on as slices of the chunks it is given, no copies.
 * For each entry: `entry(header)`, `data(slice)` zero or more times, then `end()`.
 */
export class TarReader {
  private state: 'header' | 'long' | 'data' | 'skip' = 'header';
  private acc: Buffer[] = [];
  private accBytes = 0;
  private need = 512;
  private missing = 0;
  private skipAfter = 0;
  private long: TarHeader | undefined;
  private pax: Record<string, string> | null = null;
  private paxGlobal: Record<string, string> | null = null;
  private gnuLongPath: string | null = null;
  private gnuLongLinkPath: string | null = null;

  constructor(private readonly on: { entry(h: TarHeader): void; data(b: Buffer): void; end(): void }) {}

  push(chunk: Buffer): void {
    let at = 0;
    while (at < chunk.length) {
      if (this.state === 'data') {
        const n = Math.min(this.missing, chunk.length - at);
        this.on.data(chunk.subarray(at, at + n));
        at += n;
        if ((this.missing -= n) === 0) this.endEntry();
      } else if (this.state === 'skip') {
        const n = Math.min(this.missing, chunk.length - at);
        at += n;
        if ((this.missing -= n) === 0) this.state = 'header';
      } else {
        const n = Math.min(this.need - this.accBytes, chunk.length - at);
        this.acc.push(chunk.subarray(at, at + n));
        this.accBytes += n;
        at += n;
        if (this.accBytes < this.need) continue;
        const block = this.acc.length === 1 ? this.acc[0] : Buffer.concat(this.acc, this.accBytes);
        this.acc = [];
        this.accBytes = 0;
        if (this.state === 'header') this.header(block);
        else this.longHeader(block);
      }
    }
  }

  /** True when the tar ended between entries (not inside one). */
  get atBoundary(): boolean {
    return this.state === 'header' && this.accBytes === 0;
  }

  private header(block: Buffer): void {
    const h = decodeHeader(block);
    if (!h) return; // a zero block: the end-of-archive marker
    if (h.type === 'gnu-long-path' || h.type === 'gnu-long-link-path' || h.type === 'pax-global-header' || h.type === 'pax-header') {
      if (h.size > MAX_LONG_HEADER) throw new Error('Header exceeds max size');
      this.long = h;
      this.need = h.size;
      this.state = 'long';
      if (h.size === 0) this.longHeader(Buffer.alloc(0));
      return;
    }
    if (this.gnuLongPath) [h.name, this.gnuLongPath] = [this.gnuLongPath, null];
    if (this.gnuLongLinkPath) [h.linkname, this.gnuLongLinkPath] = [this.gnuLongLinkPath, null];
    if (this.pax) {
      if (this.pax.path) h.name = this.pax.path;
      if (this.pax.linkpath) h.linkname = this.pax.linkpath;
      if (this.pax.size) h.size = parseInt(this.pax.size, 10);
      h.pax = this.pax;
      this.pax = null;
    }
    if (!(h.size >= 0)) throw new Error('Invalid header');
    this.on.entry(h);
    // tar-stream treats a directory as having no data whatever its size field says.
    if (h.size === 0 || h.type === 'directory') {
      this.on.end();
      return;
    }
    this.missing = h.size;
    this.skipAfter = (512 - (h.size & 511)) & 511;
    this.state = 'data';
  }

  private longHeader(body: Buffer): void {
    const h = this.long!;
    if (h.type === 'gnu-long-path') this.gnuLongPath = decodeLongPath(body);
    else if (h.type === 'gnu-long-link-path') this.gnuLongLinkPath = decodeLongPath(body);
    else if (h.type === 'pax-global-header') this.paxGlobal = decodePax(body);
    else this.pax = this.paxGlobal === null ? decodePax(body) : { ...this.paxGlobal, ...decodePax(body) };
    this.need = 512;
    this.missing = (512 - (h.size & 511)) & 511;
    this.state = this.missing ? 'skip' : 'header';
  }

  private endEntry(): void {
    this.on.end();
    this.missing = this.skipAfter;
    this.state = this.missing ? 'skip' : 'header';
  }
}

/**
 * Streams each entry of a Docker archive tar into the writer under `./<volume>/`, in one
 * pass: parse, re-root, hash and hand on each slice as it arrives (backpressure per chunk).
 */
export async function copyArchive(src: Readable, volume: string, writer: ArchiveWriter, signal?: AbortSignal, onBytes?: (n: number) => void): Promise<number> {
  let count = 0;
  let isFile = false;
  const reader = new TarReader({
    entry(h) {
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
      isFile = h.type === 'file' || h.type === 'contiguous-file';
      if (isFile) writer.beginFile({ ...header, type: 'file' }, h.size);
      else writer.emptyEntry(header); // any data of other entry types is skipped, as before
    },
    data(b) {
      if (!isFile) return;
      writer.fileData(b);
      onBytes?.(b.length);
    },
    end() {
      if (isFile) writer.endFile();
      isFile = false;
      count++;
    },
  });
  try {
    for await (const chunk of src as AsyncIterable<Buffer>) {
      throwIfAborted(signal);
      reader.push(chunk);
      await writer.room();
    }
  } catch (err) {
    // Half an entry cannot be taken back: the archive is unusable (the caller destroys it).
    if (!reader.atBoundary) writer.destroy(err as Error);
    throw err;
  }
  if (!reader.atBoundary) {
    const err = new Error(`the archive of volume ${volume} ended in the middle of an entry`);
    writer.destroy(err);
    throw err;
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
