/**
 * Where an archive (and its log) is written. Both kinds write a temp name that can never be
 * mistaken for a backup (`.<name>.partial-<id>`) and publish it by rename only on success;
 * on failure or cancel the temp file is removed.
 * - local: a file on the admin's machine; fsynced before the rename.
 * - host: a file in `hostPath` on the manager (hostTarget.ts).
 */
import { createWriteStream, constants as fsc } from 'node:fs';
import { access, open, readdir, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import type { Writable } from 'node:stream';
import { once } from 'node:events';
import { BackupStepError, DestinationExistsError, DestinationGoneError, destinationWriteError } from './errors';

export interface FileSink {
  stream: Writable;
  /** Publishes the temp file under its final name once all `size` bytes are written. */
  commit(size: number): Promise<void>;
  /** Removes the temp file. Safe to call after a failed commit. */
  abort(): Promise<void>;
  /**
   * After a failure: the destination's own fault, if it had one (disk full, folder removed,
   * the writer on the node failed), which is the cause to report rather than what it broke.
   */
  explain(): Promise<Error | undefined>;
}

export interface ArchiveTarget {
  readonly location: 'local' | 'host';
  readonly fileName: string;
  readonly backupPath: string;
  /** Fails with DestinationNotWritableError / DestinationExistsError before any data moves. */
  validate(names: string[]): Promise<void>;
  openFile(name: string): Promise<FileSink>;
  /**
   * Removes temp files of `names` that a killed run left (SIGKILL, power loss: no chance to
   * clean up); `isStale` says which run-id prefixes are such runs. Returns the names removed.
   */
  removeStalePartials(names: string[], isStale: (runPrefix: string) => boolean): Promise<string[]>;
  /** Removes what it started on the node; `log` hears of what had to be left to finish there. */
  close(log?: (line: string) => void): Promise<void>;
}

export function partialName(name: string, runId: string): string {
  return `.${name}.partial-${runId.slice(0, 8)}`;
}

/**
 * Temp name for a file another program writes under a name we give (the official image's
 * `--file`): keeps the `.tar` ending so the log it writes beside it is found by logNameFor.
 */
export function partialTarName(name: string, runId: string): string {
  const m = /^(.*?)(\.tar)?$/i.exec(name)!;
  return `.${m[1]}.partial-${runId.slice(0, 8)}${m[2] ?? ''}`;
}

/**
 * The run-id prefix in `entry` when it is a temp name made for one of `names` by partialName
 * or partialTarName (or a file the official image wrote beside one), else undefined.
 */
export function partialRunOf(entry: string, names: string[]): string | undefined {
  for (const n of names) {
    for (const base of new Set([n, n.replace(/\.(tar|log)$/i, '')])) {
      const head = `.${base}.partial-`;
      if (!entry.startsWith(head)) continue;
      const m = /^([0-9a-f]{8})(?:\.|$)/.exec(entry.slice(head.length));
      if (m) return m[1];
    }
  }
  return undefined;
}

/** The spec's API example pairs backup1.tar with backup1.log. */
export function logNameFor(fileName: string): string {
  return fileName.replace(/\.tar$/i, '') + '.log';
}

export class LocalTarget implements ArchiveTarget {
  readonly location = 'local' as const;
  readonly fileName: string;
  readonly backupPath: string;
  constructor(path: string, private readonly runId: string, private readonly overwrite = false) {
    const full = resolve(path);
    this.fileName = basename(full);
    this.backupPath = dirname(full);
  }

  async validate(names: string[]): Promise<void> {
    try {
      await access(this.backupPath, fsc.W_OK);
    } catch (err) {
      throw new BackupStepError('validation', `cannot write to ${this.backupPath}: ${(err as Error).message}`, 'Choose a folder you can write to.');
    }
    if (this.overwrite) return;
    for (const n of names) {
      const exists = await stat(join(this.backupPath, n)).then(() => true, () => false);
      if (exists) throw new DestinationExistsError(join(this.backupPath, n));
    }
  }

  async openFile(name: string): Promise<FileSink> {
    const tmp = join(this.backupPath, partialName(name, this.runId));
    // 1 MiB of buffer: while one write is in flight the next chunks gather and go as one
    // writev, instead of a thread-pool round trip per 64 KiB chunk (the 16 KiB default).
    const stream = createWriteStream(tmp, { flags: 'wx', mode: 0o600, highWaterMark: 1 << 20 });
    await once(stream, 'open');
    const final = join(this.backupPath, name);
    const backupPath = this.backupPath;
    let failure: unknown;
    stream.on('error', (err) => (failure ??= err));
    const explain = async (err: unknown = failure): Promise<Error | undefined> => {
      // An open file in a removed folder takes every byte without complaint: only its name is gone.
      if (!(await stat(backupPath).then((st) => st.isDirectory(), () => false))) return new DestinationGoneError(backupPath, 'this machine');
      return destinationWriteError(err, backupPath, 'this machine');
    };
    return {
      stream,
      async commit() {
        try {
          const fh = await open(tmp, 'r+');
          try {
            await fh.sync();
          } finally {
            await fh.close();
          }
          await rename(tmp, final);
          // The rename itself must survive a crash too.
          const dh = await open(backupPath, 'r');
          await dh.sync().finally(() => dh.close());
        } catch (err) {
          throw (await explain(err)) ?? err;
        }
      },
      async abort() {
        stream.destroy();
        await rm(tmp, { force: true });
      },
      explain: () => explain(),
    };
  }

  async removeStalePartials(names: string[], isStale: (runPrefix: string) => boolean): Promise<string[]> {
    const stale = (await readdir(this.backupPath)).filter((e) => {
      const run = partialRunOf(e, names);
      return run !== undefined && isStale(run);
    });
    for (const e of stale) await rm(join(this.backupPath, e), { force: true });
    return stale;
  }

  async close(): Promise<void> {}
}
