/**
 * A host-path destination: a file in `hostPath` on the manager, written by a helper container
 * running as `nobody` with the folder bind-mounted, so the file is owned by nobody as the spec
 * requires ("This location must be writable by the nobody user"). Bytes go to `cat` in that
 * helper over a hijacked exec; publishing is a size-checked `mv` there.
 */
import { Writable, type Readable } from 'node:stream';
import type Docker from 'dockerode';
import { DestinationExistsError, DestinationGoneError, DestinationNotWritableError, BackupStepError, destinationWriteError } from './errors';
import { createHelper, removeQuietly, execShort, demux, CappedText, dockerMessage, within, REMOVE_WAIT_MS } from './dockerStreams';
import { partialName, partialRunOf, type ArchiveTarget, type FileSink } from './destination';

/** How often a host-path writer's `cat` is checked while bytes flow to it. */
const WRITER_WATCH_MS = 1000;
/** How long a host-path writer's exec may still read as running once its output has ended. */
const EXEC_EXIT_WAIT_MS = 10_000;

/**
 * The hijacked exec connection as a stream whose failure we own: destroying a tunnelled socket
 * only takes effect once the far end closes the channel (tens of seconds when the writer on the
 * node died), so the pipeline writing into it would wait that long to learn of the failure.
 */
function failFast(socket: Readable & Writable): Writable {
  const out = new Writable({
    highWaterMark: 1 << 20,
    write(chunk: Buffer, _enc, cb) {
      if (socket.write(chunk)) cb();
      else socket.once('drain', () => cb());
    },
    final(cb) {
      socket.end(() => cb());
    },
    destroy(err, cb) {
      socket.destroy();
      cb(err);
    },
  });
  socket.once('error', (err) => out.destroy(err));
  socket.once('close', () => {
    if (!out.writableFinished) out.destroy(new Error('the connection to the writer on the node closed'));
  });
  return out;
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
    const part = partialName(name, this.opts.runId);
    const tmp = `/backup/${part}`;
    const backupPath = this.backupPath;
    const shown = `${backupPath}/${part}`;
    const where = this.opts.node;
    // umask 077: the archive holds the CA private keys, its log names the cluster: 0600, as a local file.
    const exec = await h.exec({ Cmd: ['sh', '-c', 'umask 077 && cat > "$0"', tmp], AttachStdin: true, AttachStdout: true, AttachStderr: true });
    // Hijacked: stdin is the request body; ending our side (EOF) ends `cat`.
    const socket = (await exec.start({ hijack: true, stdin: true })) as unknown as Readable & Writable;
    const errors = new CappedText(4096);
    let committing = false;
    let failure: Error | undefined;
    /** `cat` ended: its exit status (`r`: an inspect already made) and what it said, as the admin's error (undefined: it succeeded). */
    const catFailure = async (r: Docker.ExecInspectInfo): Promise<Error | undefined> => {
      if (r.ExitCode === 0 && !r.Running) return undefined;
      // Its stderr may still be on the way (dockerd sends it when it drops the connection):
      // a folder with no room left says the same.
      let said = errors.text().trim();
      if (!said) said = (await execShort(h, ['sh', '-c', '[ "$(df -Pk /backup | awk \'NR==2 {print $4}\')" -gt 0 ] || echo "no space left on device"'])).stdout.trim();
      if (!said) said = r.Running ? 'still running' : `exit ${r.ExitCode}`;
      return destinationWriteError(said, backupPath, where) ?? new BackupStepError('write', `writing ${shown} on ${where} failed: ${said}`);
    };
    const output = demux(socket, errors.sink, errors.sink).catch(() => undefined);
    const stream = failFast(socket);
    // `cat` may die while we still send (disk full), and dockerd keeps taking our bytes for a
    // minute or more before it drops the connection ("Premature close"): look every second,
    // and fail the write at once with cat's own reason.
    const watch = setInterval(() => {
      void (async () => {
        const r = await exec.inspect().catch(() => undefined);
        if (committing || failure || !r || r.Running) return;
        failure = await catFailure(r).catch(() => undefined);
        if (failure && !committing) stream.destroy(failure);
      })();
    }, WRITER_WATCH_MS);
    watch.unref();
    return {
      stream,
      async commit(size: number) {
        committing = true;
        clearInterval(watch);
        await output;
        // dockerd marks the exec done a moment after its output ends: wait for that, bounded.
        let r = await exec.inspect();
        for (let t = 0; t < EXEC_EXIT_WAIT_MS && r.Running; t += 50) {
          await new Promise((done) => setTimeout(done, 50));
          r = await exec.inspect();
        }
        const bad = failure ?? (await catFailure(r));
        if (bad) throw bad;
        // Publish only a complete file: the byte count must match what we sent.
        // A folder removed on the node stays mounted at /backup, with a link count of 0.
        const gone = '[ -d /backup ] && [ "$(stat -c %h /backup 2>/dev/null || echo 1)" -gt 0 ] && [ -e "$0" ] || exit 9';
        const mv = await execShort(h, ['sh', '-c', `${gone}; [ "$(wc -c < "$0")" -eq "$2" ] && mv -f "$0" "$1"`, tmp, `/backup/${name}`, String(size)]);
        if (mv.exitCode === 9) throw new DestinationGoneError(backupPath, where);
        if (mv.exitCode !== 0) throw destinationWriteError(mv.stderr, backupPath, where) ?? new BackupStepError('write', `the file written on ${where} is incomplete (${mv.stderr.trim() || 'size mismatch'})`);
      },
      async abort() {
        clearInterval(watch);
        stream.destroy();
        // Bounded, as removeQuietly is; a partial left behind is removed by the next backup.
        await within(execShort(h, ['rm', '-f', tmp]).catch(() => undefined), REMOVE_WAIT_MS, () => undefined);
      },
      // The connection may have closed before the watch looked: ask `cat` itself, unless it still runs.
      explain: async () => failure ?? (await exec.inspect().then((r) => (r.Running ? undefined : catFailure(r)), () => undefined)),
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

  async close(log?: (line: string) => void): Promise<void> {
    await removeQuietly(this.helper, log);
    this.helper = undefined;
  }
}
