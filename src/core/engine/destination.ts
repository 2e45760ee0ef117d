/**
 * Where an archive (and its log) is written. Both kinds write a temp name that can never be
 * mistaken for a backup (`.<name>.partial-<id>`) and publish it by rename only on success;
 * on failure or cancel the temp file is removed.
 * - local: a file on the admin's machine; fsynced before the rename.
 * - host: a file in `hostPath` on the manager, written by a helper container running as
 *   `nobody` with the folder bind-mounted, so the file is owned by nobody as the spec requires
 *   ("This location must be writable by the nobody user").
 */
import { createWriteStream, constants as fsc } from 'node:fs';
import { access, open, readdir, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { once } from 'node:events';
import type Docker from 'dockerode';
import { DestinationExistsError, DestinationNotWritableError, BackupStepError } from './errors';
import { createHelper, removeQuietly, execShort, demux, CappedText, dockerMessage } from './dockerStreams';

export interface FileSink {
  stream: Writable;
  /** Publishes the temp file under its final name once all `size` bytes are written. */
  commit(size: number): Promise<void>;
  /** Removes the temp file. Safe to call after a failed commit. */
  abort(): Promise<void>;
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
  close(): Promise<void>;
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
    const stream = createWriteStream(tmp, { flags: 'wx', mode: 0o600 });
    await once(stream, 'open');
    const final = join(this.backupPath, name);
    const backupPath = this.backupPath;
    return {
      stream,
      async commit() {
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
      },
      async abort() {
        stream.destroy();
        await rm(tmp, { force: true });
      },
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

export class HostTarget implements ArchiveTarget {
  readonly location = 'host' as const;
  private helper?: Docker.Container;
  /** UCP image with a shell, chosen once the lock is held (pickHelperImage). */
  image = '';
  constructor(
    private readonly docker: Docker,
    readonly backupPath: string,
    readonly fileName: string,
    private readonly opts: { runId: string; selinux: boolean; node: string; overwrite?: boolean },
  ) {}

  /** A running helper (user nobody, folder at /backup) that later commands exec into. */
  private async start(): Promise<Docker.Container> {
    if (this.helper) return this.helper;
    try {
      this.helper = await createHelper(this.docker, {
        runId: this.opts.runId,
        purpose: 'writer',
        Image: this.image,
        User: '65534:65534',
        Entrypoint: ['sh', '-c', 'while :; do sleep 3600; done'],
        HostConfig: {
          // A Mounts bind (unlike Binds) fails when the folder is missing instead of creating it root-owned.
          Mounts: [{ Type: 'bind', Source: this.backupPath, Target: '/backup' }],
          SecurityOpt: this.opts.selinux ? ['label=disable'] : undefined,
        },
      });
    } catch (err) {
      const msg = dockerMessage(err);
      if (/bind source path does not exist|not.*absolute/i.test(msg)) throw new DestinationNotWritableError(this.backupPath, this.opts.node, 'the folder does not exist (create it first)');
      throw err;
    }
    await this.helper.start();
    return this.helper;
  }

  async validate(names: string[]): Promise<void> {
    const h = await this.start();
    const w = await execShort(h, ['sh', '-c', 'test -d /backup && test -w /backup && test -x /backup']);
    if (w.exitCode !== 0) throw new DestinationNotWritableError(this.backupPath, this.opts.node);
    if (this.opts.overwrite) return;
    for (const n of names) {
      const e = await execShort(h, ['test', '-e', `/backup/${n}`]);
      if (e.exitCode === 0) throw new DestinationExistsError(`${this.backupPath}/${n} on ${this.opts.node}`);
    }
  }

  async openFile(name: string): Promise<FileSink> {
    const h = await this.start();
    const tmp = `/backup/${partialName(name, this.opts.runId)}`;
    // umask 077: the archive holds the CA private keys, its log names the cluster: 0600, as a local file.
    const exec = await h.exec({ Cmd: ['sh', '-c', 'umask 077 && cat > "$0"', tmp], AttachStdin: true, AttachStdout: true, AttachStderr: true });
    // Hijacked: stdin is the request body; ending our side (EOF) ends `cat`.
    const socket = (await exec.start({ hijack: true, stdin: true })) as unknown as Readable & Writable;
    const errors = new CappedText(4096);
    const output = demux(socket, errors.sink, errors.sink).catch(() => undefined);
    return {
      stream: socket,
      async commit(size: number) {
        await output;
        const r = await exec.inspect();
        if (r.ExitCode !== 0) throw new BackupStepError('write', `writing ${tmp} on the node failed: ${errors.text().trim() || `exit ${r.ExitCode}`}`);
        // Publish only a complete file: the byte count must match what we sent.
        const mv = await execShort(h, ['sh', '-c', '[ "$(wc -c < "$0")" -eq "$2" ] && mv -f "$0" "$1"', tmp, `/backup/${name}`, String(size)]);
        if (mv.exitCode !== 0) throw new BackupStepError('write', `the file written on the node is incomplete (${mv.stderr.trim() || 'size mismatch'})`);
      },
      async abort() {
        socket.destroy();
        await execShort(h, ['rm', '-f', tmp]).catch(() => undefined);
      },
    };
  }

  async removeStalePartials(names: string[], isStale: (runPrefix: string) => boolean): Promise<string[]> {
    const h = await this.start();
    const ls = await execShort(h, ['ls', '-A', '/backup']);
    if (ls.exitCode !== 0) throw new BackupStepError('validation', `cannot list ${this.backupPath} on ${this.opts.node}: ${ls.stderr.trim()}`);
    const stale = ls.stdout.split('\n').filter((e) => {
      const run = partialRunOf(e, names);
      return run !== undefined && isStale(run);
    });
    if (stale.length) {
      const rmr = await execShort(h, ['rm', '-f', '--', ...stale.map((e) => `/backup/${e}`)]);
      if (rmr.exitCode !== 0) throw new BackupStepError('validation', `cannot remove the partial files ${stale.join(', ')} in ${this.backupPath} on ${this.opts.node}: ${rmr.stderr.trim()}`);
    }
    return stale;
  }

  async close(): Promise<void> {
    await removeQuietly(this.helper);
    this.helper = undefined;
  }
}
