/**
 * Watches tar entries go by: lists them (bounded), hashes regular files, and keeps the few
 * small entries the checks need (manifest, container inspect documents, etcd snapshot head).
 */
import { createHash, hash as oneShot, type Hash } from 'node:crypto';
import type { EntryObserver, TarHeader } from '../archive/tarScanner';
import { EtcdSnapshotObserver, ETCD_SNAPSHOT } from './etcdSnapshot';
import { checkManifest, MANIFEST_ENTRY, parseManifest, type SeenEntry } from './manifest';
import type { EntryInfo, ManifestSummary } from './report';
import { normalizeEntryName, unsafeNameReason } from './safeName';
import { UCP_CONTAINER_JSON, versionFromInspect, type FoundVersion } from './ucpVersion';

/**
 * Names kept for the manifest check. A manifest is read only up to MAX_CAPTURE (8 MiB, about
 * 40,000 entries as our engine writes them), so more names could not be compared anyway;
 * the character budget bounds what hostile long names (up to 1 MiB each) can make us keep.
 */
export const MAX_INDEXED = 20_000;
const MAX_INDEXED_CHARS = 8 * 1024 * 1024;
const MAX_CAPTURE = 8 * 1024 * 1024;
/** A container inspect document is tens of KiB. */
const MAX_INSPECT_CAPTURE = 1024 * 1024;
const PREFERRED_INSPECT = /ucp-(controller|proxy)\.json/;
const MAX_UNSAFE_LISTED = 20;
export const MAX_ETCD_CHECKED = 5;
/** Characters of names kept in the report's listing, whatever maxListed says (hostile long names). */
const MAX_LISTED_CHARS = 16 * 1024 * 1024;
/** Unsafe names are kept this long for the check's reason (it shows five). */
const MAX_UNSAFE_NAME = 1024;

export const KEY_PEM = './ucp-controller-server-certs/key.pem';
const KEY_PEM_KEY = normalizeEntryName(KEY_PEM);

const HASHED_TYPES = new Set(['file', 'contiguous']);

export class EntryCollector {
  readonly listed: EntryInfo[] = [];
  /** Normalized name → size and hash, for the manifest check (at most MAX_INDEXED). */
  readonly seen = new Map<string, SeenEntry & { type: string }>();
  indexOverflow = false;
  /** The last ./ucp-controller-server-certs/key.pem entry (kept apart from the bounded index). */
  keyPem?: { type: string; size: number };
  private listedChars = 0;
  private indexedChars = 0;
  /** The entry whose data is passing, to hand to onListed when it ends (or the archive does). */
  private pending?: EntryInfo;
  readonly unsafe: { name: string; reason: string }[] = [];
  unsafeCount = 0;
  readonly etcd: { name: string; observer: EtcdSnapshotObserver }[] = [];
  /** etcd snapshots past MAX_ETCD_CHECKED: not checked, and so the check fails. */
  etcdUnchecked = 0;
  private manifestText?: { name: string; text: string };
  private manifestCheck?: { summary: ManifestSummary; pass: boolean; reason: string } | { error: string; name: string };
  /** The controller and proxy carry the cluster's version (real-backup-layout.md); others may lag in a partial upgrade. */
  private preferredVersion?: FoundVersion;
  private firstVersion?: FoundVersion;

  constructor(
    private readonly maxListed: number,
    readonly hashEntries = true,
    /** Sees every entry once, in archive order, when it is complete (its SHA-256 known): a streamed listing. */
    private readonly onListed?: (e: EntryInfo) => void,
  ) {}

  /** The archive ended (perhaps inside an entry's data): that entry is listed as it is. */
  finish(): void {
    this.done(this.pending);
  }

  private done(info: EntryInfo | undefined): void {
    if (!info || info !== this.pending) return;
    this.pending = undefined;
    this.onListed?.(info);
  }

  onEntry(h: TarHeader): EntryObserver | undefined {
    const info: EntryInfo = {
      name: h.name,
      type: h.type,
      size: h.sparse?.realSize ?? h.size,
      mode: h.mode,
      uid: h.uid,
      gid: h.gid,
      uname: h.uname,
      gname: h.gname,
      mtime: isoTime(h.mtime),
      linkname: h.linkname,
    };
    this.done(this.pending);
    this.pending = info;
    const chars = h.name.length + (h.linkname?.length ?? 0);
    if (this.listed.length < this.maxListed && this.listedChars + chars <= MAX_LISTED_CHARS) {
      this.listed.push(info);
      this.listedChars += chars;
    }
    const key = normalizeEntryName(h.name);
    const seen: SeenEntry & { type: string } = { size: info.size, type: h.type };
    if (key === KEY_PEM_KEY) this.keyPem = seen;
    if (this.seen.has(key) || (this.seen.size < MAX_INDEXED && this.indexedChars + key.length <= MAX_INDEXED_CHARS)) {
      if (!this.seen.has(key)) this.indexedChars += key.length;
      this.seen.set(key, seen);
    } else this.indexOverflow = true;
    const linkReason = h.type === 'hardlink' && h.linkname ? unsafeNameReason(h.linkname) : undefined;
    const reason = unsafeNameReason(h.name) ?? (linkReason && `hard link target ${linkReason}`);
    if (reason) {
      this.unsafeCount++;
      const name = h.name.length > MAX_UNSAFE_NAME ? `${h.name.slice(0, MAX_UNSAFE_NAME)}… (${h.name.length} characters)` : h.name;
      if (this.unsafe.length < MAX_UNSAFE_LISTED) this.unsafe.push({ name, reason });
    }
    // A sparse member's stored bytes are not its content (holes left out, a map in front):
    // hashing them would not give the file's SHA-256, and expanding a 1 TiB hole would take
    // as long as reading 1 TiB. It is listed with its real size, like `tar tv`, and not hashed.
    if (!HASHED_TYPES.has(h.type) || h.sparse) return this.doneNow(info);

    const extra = this.extraObserver(h);
    if (!this.hashEntries) return extra ? this.listedAtEnd(info, extra) : this.doneNow(info);
    // Most entries of a big listing arrive in one piece: hashed in one call, no Hash object. A
    // Hash per entry holds native memory the GC does not see, and RSS grew with the count.
    let hash: Hash | undefined;
    let only: Buffer | undefined;
    return this.listedAtEnd(info, {
      data(chunk) {
        if (hash) hash.update(chunk);
        else if (!only) only = Buffer.from(chunk); // a copy: read buffers are reused (readAhead.ts)
        else {
          hash = createHash('sha256').update(only).update(chunk);
          only = undefined;
        }
        extra?.data(chunk);
      },
      end() {
        info.sha256 = seen.sha256 = hash ? hash.digest('hex') : oneShotSha256(only ?? EMPTY);
        extra?.end();
      },
    });
  }

  private doneNow(info: EntryInfo): undefined {
    this.done(info);
    return undefined;
  }

  private listedAtEnd(info: EntryInfo, o: EntryObserver): EntryObserver {
    return {
      data: (chunk) => o.data(chunk),
      end: () => {
        o.end();
        this.done(info);
      },
    };
  }

  private extraObserver(h: TarHeader): EntryObserver | undefined {
    if (ETCD_SNAPSHOT.test(h.name)) {
      // A UCP backup has one; each checked one is a check in the report, so the count is bounded.
      if (this.etcd.length >= MAX_ETCD_CHECKED) return void this.etcdUnchecked++;
      const observer = new EtcdSnapshotObserver();
      this.etcd.push({ name: h.name, observer });
      return observer;
    }
    // Only what can still change the answer is captured: the first manifest, and inspect
    // documents until the controller's or proxy's version is known (an archive of a million
    // ucp-*.json entries kept a million versions).
    const isManifest = MANIFEST_ENTRY.test(h.name) && !this.manifestText;
    const isInspect = !isManifest && UCP_CONTAINER_JSON.test(h.name) && !this.preferredVersion && h.size <= MAX_INSPECT_CAPTURE;
    if ((isManifest && h.size <= MAX_CAPTURE) || isInspect) {
      const parts: Buffer[] = [];
      return {
        data: (c) => parts.push(Buffer.from(c)),
        end: () => {
          const text = Buffer.concat(parts).toString('utf8');
          if (isManifest) this.manifestText ??= { name: h.name, text };
          else {
            const v = versionFromInspect(text, h.name);
            if (v && PREFERRED_INSPECT.test(v.from)) this.preferredVersion ??= v;
            else if (v) this.firstVersion ??= v;
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
    return this.preferredVersion ?? this.firstVersion;
  }
}

const EMPTY = Buffer.alloc(0);

function oneShotSha256(data: Buffer): string {
  return oneShot('sha256', data, 'hex');
}

function isoTime(seconds: number): string {
  const d = new Date(seconds * 1000);
  return Number.isNaN(d.getTime()) ? new Date(0).toISOString() : d.toISOString();
}

