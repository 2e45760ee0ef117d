/**
 * What the drill keeps from verify's single read of the archive (VerifyOptions.onEntry):
 * the etcd snapshot and the auth store go to files in the drill's private temp dir (they can
 * be as big as the stores), the certificates and the manifest stay in memory (small, bounded).
 * An entry counts only once its last byte arrived: a truncated one is never used.
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { EntryObserver, TarHeader } from '../archive/tarScanner';
import { ETCD_SNAPSHOT } from '../verify/etcdSnapshot';
import { MANIFEST_ENTRY } from '../verify/manifest';
import { normalizeEntryName } from '../verify/safeName';

const AUTH_STORE = /^(\.\/)?ucp-backup\/[^/]+\/auth-store\.tar\.gz$/;
/** Certificate volumes (real-backup-layout.md): `./ucp-<volume>/<file>.pem`. */
const PEM = /^(\.\/)?(ucp-[^/]+)\/([^/]+\.pem)$/;
const MAX_PEM = 1 << 20;
const MAX_MANIFEST = 8 * 1024 * 1024;

export interface CapturedFile {
  name: string;
  path: string;
  size: number;
  complete: boolean;
}

export class DrillCapture {
  snapshot?: CapturedFile;
  /** Further snapshot entries (a UCP backup has one): named in the report, not restored. */
  readonly otherSnapshots: string[] = [];
  authStore?: CapturedFile;
  /** "<volume>/<file>.pem" → content, only for complete entries. */
  readonly pems = new Map<string, Buffer>();
  manifestText?: string;

  constructor(private readonly dir: string) {}

  onEntry = (h: TarHeader): EntryObserver | undefined => {
    if (h.type !== 'file' && h.type !== 'contiguous') return undefined;
    const name = normalizeEntryName(h.name);
    if (ETCD_SNAPSHOT.test(name)) {
      if (this.snapshot) {
        this.otherSnapshots.push(name);
        return undefined;
      }
      return this.toFile((this.snapshot = { name, path: join(this.dir, 'etcd.backup.db'), size: 0, complete: false }));
    }
    if (AUTH_STORE.test(name) && !this.authStore) return this.toFile((this.authStore = { name, path: join(this.dir, 'auth-store.tar.gz'), size: 0, complete: false }));
    const pem = PEM.exec(name);
    if (pem && h.size <= MAX_PEM) return this.toMemory((b) => this.pems.set(`${pem[2]}/${pem[3]}`, b));
    if (MANIFEST_ENTRY.test(name) && h.size <= MAX_MANIFEST && this.manifestText === undefined) return this.toMemory((b) => (this.manifestText = b.toString('utf8')));
    return undefined;
  };

  private toFile(f: CapturedFile): EntryObserver {
    // Synchronous writes: the tar scanner pushes chunks synchronously and has no back-pressure.
    const fd = openSync(f.path, 'wx', 0o600);
    let open = true;
    const close = () => {
      if (open) closeSync(fd);
      open = false;
    };
    this.closers.push(close);
    return {
      data(chunk) {
        writeSync(fd, chunk);
        f.size += chunk.length;
      },
      end() {
        close();
        f.complete = true;
      },
    };
  }

  private toMemory(done: (b: Buffer) => void): EntryObserver {
    const parts: Buffer[] = [];
    return { data: (c) => parts.push(Buffer.from(c)), end: () => done(Buffer.concat(parts)) };
  }

  private readonly closers: (() => void)[] = [];

  /** Closes files of entries the read never finished (a truncated or damaged archive). */
  close(): void {
    for (const c of this.closers) c();
  }
}
