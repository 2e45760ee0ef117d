/**
 * "Verify a UCP backup" (spec): `gpg --decrypt backup.tar | tar --list`, then 27 or more
 * entries and `./ucp-controller-server-certs/key.pem` present. Streamed end to end —
 * read → (decrypt → integrity) → tar framing → per-entry SHA-256 — so memory stays flat
 * for any size, and a file still on a manager is verified without downloading it first.
 * Used by the VS Code verify command, the details webview and `ucp-backup verify`.
 */
import { Readable } from 'node:stream';
import type { UcpError } from '../errors';
import type { ProgressSink } from '../progress';
import { detectArchive, DETECT_BYTES } from '../archive/detect';
import { CorruptArchiveError, IntegrityError, NotABackupError, PassphraseRequiredError, TrailingDataError, UnsupportedArchiveError, WrongPassphraseError } from '../archive/errors';
import { dearmor } from '../archive/armor';
import { decryptOpenPgp, NeedsOpenPgpJs, type DecryptInfo } from '../archive/openpgpDecrypt';
import { MessageEnd } from '../archive/messageEnd';
import { hashThreadPays } from '../archive/parallelSha1';
import { StallWatch } from '../archive/stallGuard';
import { TarScanner, type EntryObserver, type TarHeader } from '../archive/tarScanner';
import { EntryCollector } from './entryCollector';
import { buildChecks } from './checks';
import { HashingTap, openInput, peek, Replay, type VerifySource } from './input';
import type { EntryInfo, VerifyReport } from './report';

export { SourceReadError, type VerifySource } from './input';

export interface VerifyOptions {
  /** The passphrase, or a function asked once and only when the archive is encrypted. */
  passphrase?: string | (() => Promise<string | undefined>);
  /** The UCP version of the cluster the admin would restore on (adds the "restorable" check). */
  clusterVersion?: string;
  signal?: AbortSignal;
  onProgress?: ProgressSink;
  /** Entries listed in the report (all are still counted and checked). Default 10,000. */
  maxEntriesInReport?: number;
  /**
   * Sees every entry once, in archive order, as soon as it is complete (with its SHA-256 when
   * hashed): the CLI streams `--list` and `--json` from here instead of keeping the listing.
   */
  onListed?: (e: EntryInfo) => void;
  /**
   * SHA-256 of every regular entry (for `diff` and the manifest's per-entry hashes). Default:
   * only for plain tar. In an encrypted archive the MDC (SHA-1 over every plaintext byte)
   * already proves each byte is what was written, and a second hash over the same bytes
   * would double verify's CPU time (docs/bench-verify.md).
   */
  hashEntries?: boolean;
  /** SHA-256 of the file as read (report.sha256), e.g. to compare with a record. Default off: one more pass over every byte. */
  fileSha256?: boolean;
  /**
   * Also sees every entry as it streams by, after verify's own observer: the restore drill
   * keeps the snapshot, certificates and auth store from this same single read.
   */
  onEntry?: (h: TarHeader) => EntryObserver | undefined;
}

/** After the last input byte, OpenPGP.js output pausing this long is its deadlock (stallGuard.ts). */
const OPENPGPJS_STALL_MS = 5000;

/** Inputs this large hash the OpenPGP MDC on a second thread when a core is free (parallelSha1.ts). */
const PARALLEL_HASH_FROM = 64 * 1024 * 1024;

export async function verifyBackup(source: VerifySource, options: VerifyOptions = {}): Promise<VerifyReport> {
  const label = source.kind === 'file' ? source.path : source.label;
  const input = await openInput(source, label);
  const getPassphrase = passphraseOnce(options.passphrase);
  try {
    const tap = new HashingTap(input.chunks, label, input.total, options);
    const replay = new Replay(tap);
    const info: DecryptInfo = {};
    let attempt = await readOnce(replay, tap, label, options, getPassphrase, info, false);
    // Only AEAD, S2K kinds we lack and ciphers OpenSSL lacks get here, before any plaintext was read: the
    // same bytes again, from what was kept (input.ts), so a pipe or stdin is read only once.
    if (attempt === 'retry-with-openpgpjs') {
      refuseWhatOpenPgpJsLacks(info);
      if (!replay.canReplay) throw new CorruptArchiveError('The OpenPGP data is damaged (megabytes of packets before the encrypted data).');
      attempt = await readOnce(replay, tap, label, options, getPassphrase, info, true);
    }
    if (attempt === 'retry-with-openpgpjs') throw new Error('unreachable');
    return attempt;
  } finally {
    input.close();
  }
}

async function readOnce(
  replay: Replay,
  tap: HashingTap,
  label: string,
  options: VerifyOptions,
  getPassphrase: () => Promise<string>,
  info: DecryptInfo,
  useOpenPgpJs: boolean,
): Promise<VerifyReport | 'retry-with-openpgpjs'> {
  const { head, stream } = await peek(replay.stream(), DETECT_BYTES);
  const kind = detectArchive(head);
  if (kind.kind === 'other') throw new NotABackupError(`${label} is not a UCP backup: it is ${kind.what}.`);

  const encrypted = kind.kind !== 'tar';
  const framing = new MessageEnd(kind.kind === 'openpgp-armored' ? dearmor(stream) : stream);
  const binary = framing.message();
  let decryptError: UcpError | undefined;
  let plaintext: AsyncIterable<Buffer>;
  if (!encrypted) plaintext = stream;
  else if (!useOpenPgpJs) plaintext = decryptOpenPgp(binary, getPassphrase, info, (tap.total ?? 0) >= PARALLEL_HASH_FROM && hashThreadPays());
  else {
    const passphrase = await getPassphrase();
    // Loaded only here: OpenPGP.js adds ~15 MiB of heap that the fast path never needs.
    const { decryptStream } = await import('../archive/pgp');
    try {
      const watch = new StallWatch(OPENPGPJS_STALL_MS, () =>
        new CorruptArchiveError('OpenPGP.js stopped before the end of the data: the passphrase is wrong or the archive is damaged.'));
      plaintext = watch.guard(await watch.race(decryptStream(Readable.from(watch.track(binary)), passphrase, { sessionKey: info.sessionKey })));
    } catch (err) {
      // OpenPGP.js reads the first packets before it returns: damage there is found here.
      if (!(err instanceof IntegrityError || err instanceof CorruptArchiveError)) throw err;
      throwIfUncheckedPassphrase(info);
      decryptError = err;
      plaintext = Readable.from([]);
    }
  }

  const collector = new EntryCollector(options.maxEntriesInReport ?? 10_000, options.hashEntries ?? !encrypted, options.onListed);
  const tar = new TarScanner((h) => both(collector.onEntry(h), options.onEntry?.(h)));
  let tarBytes = 0;
  try {
    for await (const chunk of plaintext) {
      if (tarBytes === 0) replay.settle();
      tarBytes += chunk.length;
      tar.write(chunk);
    }
  } catch (err) {
    if (err instanceof NeedsOpenPgpJs && tarBytes === 0) return 'retry-with-openpgpjs';
    if (!(err instanceof IntegrityError || err instanceof CorruptArchiveError)) throw err;
    // OpenPGP.js has no quick check: a wrong key decrypts to garbage that may even parse as a
    // literal packet. Garbage that failed the MDC without one valid tar header is that case.
    if (useOpenPgpJs && (tarBytes === 0 || tar.entries === 0)) throwIfUncheckedPassphrase(info);
    decryptError = err;
  }
  if (encrypted && !decryptError) decryptError = await afterMessage(framing);
  tar.end();
  collector.finish();
  await tap.drain(); // the byte count and file hash cover every byte, also after the OpenPGP data

  const checks = buildChecks({ encrypted, info, tar, collector, decryptError, clusterVersion: options.clusterVersion });
  return {
    verdict: checks.every((c) => c.pass) ? 'VALID' : 'INVALID',
    source: label,
    encrypted,
    cipher: info.cipher,
    compression: encrypted ? info.compression : undefined,
    entries: collector.listed,
    entryCount: tar.entries,
    truncatedListing: tar.entries > collector.listed.length,
    checks: checks,
    manifest: collector.manifestSummary,
    ucpVersion: collector.ucpVersion?.version,
    sha256: tap.sha256(),
    entriesHashed: collector.hashEntries,
    bytes: tap.bytes,
    tarBytes,
  };
}

/** Ciphers OpenPGP.js 6 does not implement: it would report them as a wrong passphrase. */
const OPENPGPJS_LACKS = new Set(['IDEA', 'CAMELLIA128', 'CAMELLIA192', 'CAMELLIA256']);

function refuseWhatOpenPgpJsLacks(info: DecryptInfo): void {
  if (!info.cipher || !OPENPGPJS_LACKS.has(info.cipher)) return;
  // Camellia reaches the fallback only for what our fast path leaves out (AEAD, several passphrase packets …).
  const extra = info.compression && info.compression !== 'none' ? ` with ${info.compression} compression` : '';
  throw new UnsupportedArchiveError(`the ${info.cipher} cipher${extra}`);
}

/**
 * Ciphers OpenSSL lacks (CAST5, Blowfish, Twofish) go to OpenPGP.js before our quick check
 * ran; it then reports a wrong passphrase as damage. Nothing decrypted at all: say so, like gpg's "bad key".
 */
function throwIfUncheckedPassphrase(info: DecryptInfo): void {
  if (!info.passphraseChecked) throw new WrongPassphraseError('The passphrase does not decrypt this backup (or the start of the file is damaged).');
}

/**
 * What follows a message that decrypted cleanly: nothing, in a file gpg accepts. Reading it
 * also reads the armor's END line and CRC, and any second armored block (gpg joins them).
 */
async function afterMessage(framing: MessageEnd): Promise<UcpError | undefined> {
  try {
    const n = await framing.trailing();
    return n > 0 ? new TrailingDataError(n) : undefined;
  } catch (err) {
    if (err instanceof CorruptArchiveError) return err;
    throw err;
  }
}

function passphraseOnce(p: VerifyOptions['passphrase']): () => Promise<string> {
  let cached: Promise<string> | undefined;
  return () =>
    (cached ??= (async () => {
      const value = typeof p === 'function' ? await p() : p;
      if (!value) throw new PassphraseRequiredError();
      return value;
    })());
}
function both(a: EntryObserver | undefined, b: EntryObserver | undefined): EntryObserver | undefined {
  if (!a || !b) return a ?? b;
  return {
    data(chunk) {
      a.data(chunk);
      b.data(chunk);
    },
    end() {
      a.end();
      b.end();
    },
  };
}

