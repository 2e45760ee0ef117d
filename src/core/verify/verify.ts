/**
 * "Verify a UCP backup" (spec): `gpg --decrypt backup.tar | tar --list`, then 27 or more
 * entries and `./ucp-controller-server-certs/key.pem` present. Streamed end to end —
 * read → (decrypt → integrity) → tar framing → per-entry SHA-256 — so memory stays flat
 * for any size, and a file still on a manager is verified without downloading it first.
 * Used by the VS Code verify command, the details webview and `ucp-backup verify`.
 */
import { createHash, type Hash } from 'node:crypto';
import { stat } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { CancelledError, UcpError } from '../errors';
import type { ProgressSink } from '../progress';
import { detectArchive, DETECT_BYTES } from '../archive/detect';
import { CorruptArchiveError, IntegrityError, NotABackupError, PassphraseRequiredError, TrailingDataError, WrongPassphraseError } from '../archive/errors';
import { dearmor } from '../archive/armor';
import { decryptOpenPgp, NeedsOpenPgpJs, type DecryptInfo } from '../archive/openpgpDecrypt';
import { MessageEnd } from '../archive/messageEnd';
import { hashThreadPays } from '../archive/parallelSha1';
import { readAhead } from '../archive/readAhead';
import { StallWatch } from '../archive/stallGuard';
import { TarScanner, type EntryObserver, type TarHeader } from '../archive/tarScanner';
import { EntryCollector } from './entryCollector';
import { buildChecks } from './checks';
import type { VerifyReport } from './report';

export type VerifySource =
  | { kind: 'file'; path: string }
  | { kind: 'stream'; open: () => Promise<Readable>; size?: number; label: string };

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

/** An error reading the source itself (file or SSH stream): not the archive's fault. */
export class SourceReadError extends UcpError {
  constructor(label: string, err: unknown) {
    super(`Cannot read ${label}: ${(err as Error)?.message ?? err}`, 'Check that the file exists and is readable (or that the node is reachable).', 2, { cause: err });
  }
}

const READ_CHUNK = 256 * 1024;
/** After the last input byte, OpenPGP.js output pausing this long is its deadlock (stallGuard.ts). */
const OPENPGPJS_STALL_MS = 5000;

/** Inputs this large hash the OpenPGP MDC on a second thread when a core is free (parallelSha1.ts). */
const PARALLEL_HASH_FROM = 64 * 1024 * 1024;

export async function verifyBackup(source: VerifySource, options: VerifyOptions = {}): Promise<VerifyReport> {
  const label = source.kind === 'file' ? source.path : source.label;
  const total = source.kind === 'file' ? await fileSize(source.path) : source.size;
  const getPassphrase = passphraseOnce(options.passphrase);

  const info: DecryptInfo = {};
  let attempt = await readOnce(source, label, total, options, getPassphrase, info, false);
  // Only bzip2, AEAD and ciphers OpenSSL lacks get here, before any plaintext was read.
  if (attempt === 'retry-with-openpgpjs') attempt = await readOnce(source, label, total, options, getPassphrase, info, true);
  if (attempt === 'retry-with-openpgpjs') throw new Error('unreachable');
  return attempt;
}

async function readOnce(
  source: VerifySource,
  label: string,
  total: number | undefined,
  options: VerifyOptions,
  getPassphrase: () => Promise<string>,
  info: DecryptInfo,
  useOpenPgpJs: boolean,
): Promise<VerifyReport | 'retry-with-openpgpjs'> {
  const input = await openSource(source, label);
  // A streamed source may learn its size only once open (Docker's archive header).
  const tap = new HashingTap(input, label, total ?? (source.kind === 'stream' ? source.size : undefined), options);
  try {
    const { head, stream } = await peek(tap.chunks(), DETECT_BYTES);
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
        plaintext = watch.guard(await watch.race(decryptStream(Readable.from(watch.track(binary)), passphrase)));
      } catch (err) {
        // OpenPGP.js reads the first packets before it returns: damage there is found here.
        if (!(err instanceof IntegrityError || err instanceof CorruptArchiveError)) throw err;
        throwIfUncheckedPassphrase(info);
        decryptError = err;
        plaintext = Readable.from([]);
      }
    }

    const collector = new EntryCollector(options.maxEntriesInReport ?? 10_000, options.hashEntries ?? !encrypted);
    const tar = new TarScanner((h) => both(collector.onEntry(h), options.onEntry?.(h)));
    let tarBytes = 0;
    try {
      for await (const chunk of plaintext) {
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
  } finally {
    if (input instanceof Readable) input.destroy();
    else void input.return(undefined).catch(() => undefined);
  }
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

async function fileSize(path: string): Promise<number> {
  try {
    return (await stat(path)).size;
  } catch (err) {
    throw new SourceReadError(path, err);
  }
}

async function openSource(source: VerifySource, label: string): Promise<Readable | AsyncGenerator<Buffer>> {
  if (source.kind === 'file') return readAhead(source.path, READ_CHUNK);
  try {
    return await source.open();
  } catch (err) {
    if (err instanceof UcpError) throw err;
    throw new SourceReadError(label, err);
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

/** Reads the source once: SHA-256 and byte count of the file as read, progress, cancellation. */
class HashingTap {
  bytes = 0;
  private readonly hash?: Hash;
  private readonly it: AsyncIterator<Buffer>;
  private lastReport = 0;

  constructor(
    input: AsyncIterable<Buffer>,
    private readonly label: string,
    readonly total: number | undefined,
    private readonly options: VerifyOptions,
  ) {
    this.it = input[Symbol.asyncIterator]();
    if (options.fileSha256) this.hash = createHash('sha256');
  }

  async *chunks(): AsyncGenerator<Buffer> {
    for (;;) {
      const chunk = await this.next();
      if (chunk === undefined) return;
      yield chunk;
    }
  }

  private async next(): Promise<Buffer | undefined> {
    if (this.options.signal?.aborted) throw new CancelledError();
    let r: IteratorResult<Buffer>;
    try {
      r = await this.it.next();
    } catch (err) {
      throw new SourceReadError(this.label, err);
    }
    if (r.done) return undefined;
    const chunk = Buffer.isBuffer(r.value) ? r.value : Buffer.from(r.value);
    this.hash?.update(chunk);
    this.bytes += chunk.length;
    if (this.options.onProgress && this.bytes - this.lastReport >= 32 * 1024 * 1024) {
      this.lastReport = this.bytes;
      this.options.onProgress({
        step: 'verify',
        message: `Verifying ${this.label}`,
        bytes: this.bytes,
        percent: this.total ? Math.min(100, Math.floor((this.bytes / this.total) * 100)) : undefined,
      });
    }
    return chunk;
  }

  /** Reads what the consumers left (data after the OpenPGP message, or after a damaged part). */
  async drain(): Promise<void> {
    while ((await this.next()) !== undefined);
  }

  sha256(): string | undefined {
    return this.hash?.digest('hex');
  }
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

/** The first `n` bytes (fewer at the end of input) and the whole stream, those bytes included. */
async function peek(source: AsyncGenerator<Buffer>, n: number): Promise<{ head: Buffer; stream: AsyncGenerator<Buffer> }> {
  const first: Buffer[] = [];
  let got = 0;
  while (got < n) {
    const r = await source.next();
    if (r.done) break;
    first.push(r.value);
    got += r.value.length;
  }
  async function* stream(): AsyncGenerator<Buffer> {
    yield* first;
    for (;;) {
      const r = await source.next();
      if (r.done) return;
      yield r.value;
    }
  }
  return { head: Buffer.concat(first).subarray(0, n), stream: stream() };
}
