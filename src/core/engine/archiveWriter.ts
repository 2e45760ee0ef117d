/**
 * Builds the backup tar as a stream (tar-stream `pack`) and keeps the manifest: size and
 * SHA-256 of every entry, hashed as the bytes go by. Entries stream with backpressure, so
 * memory stays bounded whatever the volume sizes; an entry's size must be known up front
 * (it comes from the source tar header or a finished temp file).
 */
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import type { Readable } from 'node:stream';
import * as tar from 'tar-stream';
import { throwIfAborted } from '../errors';

export interface ManifestEntry {
  name: string;
  type: 'file' | 'directory' | 'symlink' | 'link' | 'other';
  size: number;
  sha256?: string;
  mode: number;
  uid: number;
  gid: number;
}

export type EntryHeader = Partial<tar.Header> & Pick<tar.Header, 'name'>;

export class ArchiveWriter {
  readonly pack = tar.pack();
  readonly entries: ManifestEntry[] = [];
  /** Plaintext bytes of entry data added so far (for progress). */
  dataBytes = 0;

  constructor(private readonly signal?: AbortSignal) {}

  private record(h: EntryHeader, size: number, sha256?: string): void {
    const t = h.type ?? 'file';
    this.entries.push({
      name: h.name,
      type: t === 'file' || t === 'directory' || t === 'symlink' || t === 'link' ? t : 'other',
      size,
      sha256,
      mode: h.mode ?? 0,
      uid: h.uid ?? 0,
      gid: h.gid ?? 0,
    });
  }

  /** Directories, links and other entries without data. */
  addEmpty(header: EntryHeader): Promise<void> {
    this.record(header, 0);
    return new Promise((resolve, reject) => this.pack.entry({ ...header, size: 0 }, (err) => (err ? reject(err) : resolve())));
  }

  addBuffer(header: EntryHeader, data: Buffer): Promise<void> {
    throwIfAborted(this.signal);
    this.record(header, data.length, createHash('sha256').update(data).digest('hex'));
    this.dataBytes += data.length;
    return new Promise((resolve, reject) => this.pack.entry({ ...header, type: 'file', size: data.length }, data, (err) => (err ? reject(err) : resolve())));
  }

  /** Streams `size` bytes from `src` into a file entry; fails when the source is shorter or longer. */
  async addStream(header: EntryHeader, size: number, src: AsyncIterable<Buffer> | Readable, onBytes?: (n: number) => void): Promise<void> {
    throwIfAborted(this.signal);
    const hash = createHash('sha256');
    let settle!: (err?: Error | null) => void;
    const done = new Promise<void>((resolve, reject) => (settle = (err) => (err ? reject(err) : resolve())));
    const sink = this.pack.entry({ ...header, type: 'file', size }, (err) => settle(err));
    let written = 0;
    try {
      for await (const chunk of src as AsyncIterable<Buffer>) {
        throwIfAborted(this.signal);
        written += chunk.length;
        if (written > size) throw new Error(`${header.name}: more data than its ${size} bytes`);
        hash.update(chunk);
        this.dataBytes += chunk.length;
        onBytes?.(chunk.length);
        if (!sink.write(chunk)) await once(sink as unknown as NodeJS.EventEmitter, 'drain');
      }
      if (written !== size) throw new Error(`${header.name}: ${written} of ${size} bytes`);
    } catch (err) {
      sink.destroy(err as Error);
      done.catch(() => undefined);
      throw err;
    }
    sink.end(undefined as unknown as Buffer);
    await done;
    this.record(header, size, hash.digest('hex'));
  }

  finalize(): void {
    this.pack.finalize();
  }

  destroy(err?: Error): void {
    this.pack.destroy(err);
  }
}
