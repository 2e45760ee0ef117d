/**
 * Docker stream plumbing the engine needs: a demuxer that respects backpressure
 * (dockerode's demuxStream does not; TESTBED.md), short exec commands, and helper
 * containers that are always found and removed again.
 */
import { once } from 'node:events';
import type { Readable, Writable } from 'node:stream';
import type Docker from 'dockerode';
import { throwIfAborted } from '../errors';

/** Label on every helper container, so leftovers of a killed run can be found and removed. */
export const HELPER_LABEL = 'com.ucp-backup.helper';

/**
 * Splits Docker's multiplexed stdout/stderr stream (8-byte frame headers, no TTY) into two
 * writables, waiting for 'drain' so a slow consumer slows the producer instead of buffering.
 */
export async function demux(src: Readable, stdout: Writable, stderr: Writable): Promise<void> {
  let pending: Buffer = Buffer.alloc(0);
  for await (const chunk of src as AsyncIterable<Buffer>) {
    pending = pending.length ? Buffer.concat([pending, chunk]) : chunk;
    while (pending.length >= 8) {
      const size = pending.readUInt32BE(4);
      if (pending.length < 8 + size) break;
      const target = pending[0] === 2 ? stderr : stdout;
      const payload = pending.subarray(8, 8 + size);
      pending = pending.subarray(8 + size);
      if (!target.write(payload)) await once(target, 'drain');
    }
  }
}

/** A writable that keeps the first `limit` bytes (for small command outputs and error texts). */
export class CappedText {
  private chunks: Buffer[] = [];
  private size = 0;
  constructor(private readonly limit = 1 << 20) {}
  readonly sink = {
    write: (b: Buffer): boolean => {
      if (this.size < this.limit) {
        const part = b.subarray(0, this.limit - this.size);
        this.chunks.push(Buffer.from(part));
        this.size += part.length;
      }
      return true;
    },
  } as unknown as Writable;
  text(): string {
    return Buffer.concat(this.chunks).toString('utf8');
  }
}

export interface ExecResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

/** Runs a short command in a running container and returns its (capped) output. */
export async function execShort(container: Docker.Container, cmd: string[], opts: { env?: string[]; user?: string; signal?: AbortSignal } = {}): Promise<ExecResult> {
  throwIfAborted(opts.signal);
  const exec = await container.exec({ Cmd: cmd, Env: opts.env, User: opts.user, AttachStdout: true, AttachStderr: true });
  const stream = (await exec.start({ hijack: true, stdin: false })) as unknown as Readable;
  const onAbort = () => stream.destroy(new Error('aborted'));
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  const out = new CappedText();
  const err = new CappedText();
  try {
    await demux(stream, out.sink, err.sink);
  } finally {
    opts.signal?.removeEventListener('abort', onAbort);
  }
  throwIfAborted(opts.signal);
  const info = await exec.inspect();
  return { exitCode: info.ExitCode ?? -1, stdout: out.text(), stderr: err.text() };
}

/** Creates a labelled helper container; the caller removes it with removeQuietly in finally. */
export async function createHelper(docker: Docker, opts: Docker.ContainerCreateOptions & { runId: string; purpose: string }): Promise<Docker.Container> {
  const { runId, purpose, ...create } = opts;
  return docker.createContainer({
    ...create,
    name: `ucp-backup-helper-${runId.slice(0, 8)}-${purpose}`,
    Labels: { ...(create.Labels ?? {}), [HELPER_LABEL]: runId },
    HostConfig: { NetworkMode: 'none', ...(create.HostConfig ?? {}) },
  });
}

/** How long a helper's removal may take before it is left to finish on the node. */
export const REMOVE_WAIT_MS = 10_000;

/**
 * Removes a helper, bounded: after a lost link dockerd holds the removal of a container whose
 * exec or archive stream is still attached to the dead connection until the node's end of it
 * closes; the removal then finishes there, and the next backup removes whatever is left.
 */
export async function removeQuietly(container: Docker.Container | undefined, log?: (line: string) => void): Promise<void> {
  if (!container) return;
  const removal = container.remove({ force: true, v: false }).catch(() => undefined); // already gone: nothing to clean
  await within(removal, REMOVE_WAIT_MS, () => log?.(`cleanup: helper ${container.id.slice(0, 12)} was not removed within ${REMOVE_WAIT_MS / 1000} s (its old connection is still open on the node); it goes when that closes, or the next backup removes it`));
}

/**
 * Removes helper containers left behind by runs that were killed (not cancelled). Only those
 * whose run `isDead` says so: verify and benchmark runs use the same helpers without the
 * backup lock and must keep theirs.
 */
export async function removeLeftoverHelpers(docker: Docker, isDead: (runId: string) => Promise<boolean>): Promise<number> {
  const list = await docker.listContainers({ all: true, filters: { label: [HELPER_LABEL] } });
  let n = 0;
  for (const c of list) {
    if (!(await isDead(c.Labels[HELPER_LABEL]))) continue;
    await removeQuietly(docker.getContainer(c.Id));
    n++;
  }
  return n;
}

/** Error text of a dockerode call, without the "(HTTP code …)" noise when possible. */
export function dockerMessage(err: unknown): string {
  const e = err as { json?: { message?: string }; message?: string };
  return e?.json?.message ?? e?.message ?? String(err);
}

export function statusCode(err: unknown): number | undefined {
  return (err as { statusCode?: number })?.statusCode;
}

/**
 * `work`, or what `late` returns (or throws) when `work` has not settled within `ms`; `work` is
 * left to settle on its own (a Docker call cannot be taken back).
 */
export async function within<T, L>(work: Promise<T>, ms: number, late: () => L): Promise<T | L> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([work, new Promise<L>((resolve, reject) => (timer = setTimeout(() => {
      try {
        resolve(late());
      } catch (err) {
        reject(err);
      }
    }, ms)))]);
  } finally {
    clearTimeout(timer);
  }
}
