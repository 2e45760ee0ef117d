/**
 * Watches tar entries go by: lists them (bounded), hashes regular files, and keeps the few
 * small entries the checks need (manifest, container inspect documents, etcd snapshot head).
 */
import { createHash } from 'node:crypto';
import type { EntryObserver, TarHeader } from '../archive/tarScanner';
import { EtcdSnapshotObserver, ETCD_SNAPSHOT } from './etcdSnapshot';
import { checkManifest, MANIFEST_ENTRY, parseManifest, type SeenEntry } from './manifest';
import type { EntryInfo, ManifestSummary } from './report';
import { normalizeEntryName, unsafeNameReason } from './safeName';
import { UCP_CONTAINER_JSON, versionFromInspect, type FoundVersion } from './ucpVersion';

/** Names kept for the manifest and key.pem checks; beyond this the archive cannot be a UCP backup we could check in full. */
const MAX_INDEXED = 500_000;
const MAX_CAPTURE = 8 * 1024 * 1024;
const MAX_UNSAFE_LISTED = 20;

export const KEY_PEM = './ucp-controller-server-certs/key.pem';

const HASHED_TYPES = new Set(['file', 'contiguous', 'sparse']);

export class EntryCollector {
  readonly listed: EntryInfo[] = [];
  /** Normalized name → size and hash, for the manifest check and `diff`. */
  readonly seen = new Map<string, SeenEntry & { type: string }>();
  indexOverflow = false;
  readonly unsafe: { name: string; reason: string }[] = [];
  unsafeCount = 0;
  readonly etcd: { name: string; observer: EtcdSnapshotObserver }[] = [];
  private manifestText?: { name: string; text: string };
  private manifestCheck?: { summary: ManifestSummary; pass: boolean; reason: string } | { error: string; name: string };
  private versions: FoundVersion[] = [];

  constructor(
    private readonly maxListed: number,
    readonly hashEntries = true,
  ) {}

  onEntry(h: TarHeader): EntryObserver | undefined {
    const info: EntryInfo = {
      name: h.name,
      type: h.type,
      size: h.size,
      mode: h.mode,
      uid: h.uid,
      gid: h.gid,
      uname: h.uname,
      gname: h.gname,
      mtime: isoTime(h.mtime),
      linkname: h.linkname,
    };
    if (this.listed.length < this.maxListed) this.listed.push(info);
    const key = normalizeEntryName(h.name);
    const seen: SeenEntry & { type: string } = { size: h.size, type: h.type };
    if (this.seen.size < MAX_INDEXED) this.seen.set(key, seen);
    else this.indexOverflow = true;
    const linkReason = h.type === 'hardlink' && h.linkname ? unsafeNameReason(h.linkname) : undefined;
    const reason = unsafeNameReason(h.name) ?? (linkReason && `hard link target ${linkReason}`);
    if (reason) {
      this.unsafeCount++;
      if (this.unsafe.length < MAX_UNSAFE_LISTED) this.unsafe.push({ name: h.name, reason });
    }
    if (!HASHED_TYPES.has(h.type)) return undefined;

    const extra = this.extraObserver(h);
    if (!this.hashEntries) return extra;
    const hash = createHash('sha256');
    return {
      data(chunk) {
        hash.update(chunk);
        extra?.data(chunk);
      },
      end() {
        info.sha256 = seen.sha256 = hash.digest('hex');
        extra?.end();
      },
    };
  }

  private extraObserver(h: TarHeader): EntryObserver | undefined {
    if (ETCD_SNAPSHOT.test(h.name)) {
      const observer = new EtcdSnapshotObserver();
      this.etcd.push({ name: h.name, observer });
      return observer;
    }
    const isManifest = MANIFEST_ENTRY.test(h.name);
    if ((isManifest || UCP_CONTAINER_JSON.test(h.name)) && h.size <= MAX_CAPTURE) {
      const parts: Buffer[] = [];
      return {
        data: (c) => parts.push(Buffer.from(c)),
        end: () => {
          const text = Buffer.concat(parts).toString('utf8');
          if (isManifest) this.manifestText ??= { name: h.name, text };
          else {
            const v = versionFromInspect(text, h.name);
            if (v) this.versions.push(v);
          }
        },
      };
    }
    return undefined;
  }

  /** Manifest comparison, done once after the whole archive was read. */
  manifestResult(): { summary: ManifestSummary; pass: boolean; reason: string } | { error: string; name: string } | undefined {
    if (this.manifestCheck || !this.manifestText) return this.manifestCheck;
    const parsed = parseManifest(this.manifestText.text);
    this.manifestCheck = typeof parsed === 'string' ? { error: parsed, name: this.manifestText.name } : checkManifest(this.manifestText.name, parsed, this.seen, this.hashEntries);
    return this.manifestCheck;
  }

  get manifestSummary(): ManifestSummary | undefined {
    const r = this.manifestResult();
    return r && 'summary' in r ? r.summary : undefined;
  }

  get ucpVersion(): FoundVersion | undefined {
    const m = this.manifestText && parseManifest(this.manifestText.text);
    if (m && typeof m !== 'string' && m.ucpVersion) return { version: m.ucpVersion, from: `the manifest ${this.manifestText!.name}` };
    // The controller and proxy carry the cluster's version (real-backup-layout.md); others may lag in a partial upgrade.
    const preferred = this.versions.find((v) => /ucp-(controller|proxy)\.json/.test(v.from));
    return preferred ?? this.versions[0];
  }
}

function isoTime(seconds: number): string {
  const d = new Date(seconds * 1000);
  return Number.isNaN(d.getTime()) ? new Date(0).toISOString() : d.toISOString();
}

