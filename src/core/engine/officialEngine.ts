/**
 * The official engine: runs `docker/ucp:<version>` (or `mirantis/ucp:<version>`) as the spec
 * shows — `--rm --interactive --log-driver none --name ucp`, the node's Docker socket at
 * /var/run/docker.sock, `--security-opt label=disable` under SELinux — in the spec's stdout
 * form ("streams it to stdout"), always with `--no-passphrase`.
 *
 * Why never `--passphrase`: the image takes it only as an argument, so it would sit in the
 * container's command — in the manager's `ps` for the whole run and, after `--rm`, still in
 * dockerd's and containerd's state on the manager's disk (issue 11). Instead the plain tar
 * streams through the SSH tunnel and is encrypted here, on the admin's machine, by the same
 * OpenPGP writer as the built-in engine; a host-path destination then gets the *ciphertext*
 * written back to the manager, so plaintext never rests there either. The log is ours.
 * `--jsonlog` lines on stderr become our progress events.
 */
import { Transform, Writable, type Duplex } from 'node:stream';
import type Docker from 'dockerode';
import type { FileSink } from './destination';
import { demux, dockerMessage, statusCode, within } from './dockerStreams';
import { BackupStepError, OfficialImageMissingError } from './errors';
import { writeOut, type Written } from './outputPipeline';
import type { UcpNodeInfo } from './ucpNode';
import type { StepName } from '../progress';
import { throwIfAborted, CancelledError } from '../errors';

/** The spec's `--name ucp`. */
export const OFFICIAL_CONTAINER_NAME = 'ucp';

/** How long removing the image's container may take before the run goes on without it. */
const REMOVE_WAIT_MS = 15_000;

/** How long the exit status may take after the image's output ended. */
const EXIT_WAIT_MS = 30_000;

/** How long a cancelled official run may take to clean up after SIGTERM. */
const KILL_GRACE_MS = 15_000;

/** The official image matching the cluster's version, when it is on the node. */
export async function findOfficialImage(docker: Docker, node: UcpNodeInfo, required: boolean): Promise<string | undefined> {
  const spaces = [node.namespace, ...['docker', 'mirantis'].filter((n) => n !== node.namespace)];
  const wanted = spaces.map((ns) => `${ns}/ucp:${node.ucpVersion}`);
  for (const name of wanted) {
    try {
      await docker.getImage(name).inspect();
      return name;
    } catch (err) {
      if (statusCode(err) !== 404) throw err;
    }
  }
  if (required) throw new OfficialImageMissingError(node.hostname, wanted);
  return undefined;
}

/**
 * The `backup` arguments: the spec's stdout form, no passphrase (we encrypt), `--jsonlog` for
 * machine-readable progress. Nothing secret is ever in them.
 */
export function officialArgs(): string[] {
  return ['backup', '--no-passphrase', '--jsonlog'];
}

/** Maps a `--jsonlog` message to the spec's step it reports. */
export function stepOfMessage(msg: string): StepName | undefined {
  const m = msg.toLowerCase();
  if (/validat/.test(m)) return 'validation';
  if (/rethink|auth.?store/.test(m)) return 'rethinkdb';
  if (/etcd|ucp-kv/.test(m)) return 'etcd';
  if (/volume/.test(m)) return 'volumes';
  if (/container|metadata|inspect/.test(m)) return 'metadata';
  if (/encrypt|writ|complete|finish/.test(m)) return 'write';
  return undefined;
}

export interface OfficialContext {
  docker: Docker;
  node: UcpNodeInfo;
  image: string;
  runId: string;
  /** Encrypts the image's plain output here, on the admin's machine; never given to the image. */
  passphrase?: string;
  /** The node's Docker socket path (NodeConfig.dockerSocket), mounted as the spec's /var/run/docker.sock. */
  dockerSocket?: string;
  step(step: StepName, message: string, percent?: number, bytes?: number): void;
  log(line: string): void;
  signal?: AbortSignal;
}

/**
 * A `ucp` container labelled by one of our runs belongs to a run that was killed: the caller
 * holds the cluster lock, so no other run of ours is alive. One started by hand is left alone.
 */
async function removeOurLeftover(docker: Docker): Promise<boolean> {
  const c = docker.getContainer(OFFICIAL_CONTAINER_NAME);
  const info = await c.inspect().catch(() => undefined);
  if (!info?.Config.Labels?.['com.ucp-backup.run']) return false;
  await c.remove({ force: true }).catch(() => undefined);
  return true;
}

/** Turns the image's stderr (`--jsonlog`: one JSON object per line) into log lines and progress. */
function jsonlogReader(ctx: OfficialContext, onError: (msg: string) => void): Writable {
  let pending = '';
  return new Writable({
    write(chunk: Buffer, _enc, cb) {
      pending += chunk.toString('utf8');
      let i: number;
      while ((i = pending.indexOf('\n')) >= 0) {
        const line = pending.slice(0, i).trim();
        pending = pending.slice(i + 1);
        if (!line) continue;
        try {
          const j = JSON.parse(line) as { level?: string; msg?: string };
          const msg = j.msg ?? line;
          if (j.level === 'error' || j.level === 'fatal') onError(msg);
          ctx.log(`official: ${j.level ?? 'info'}: ${msg}`);
          const s = stepOfMessage(msg);
          if (s) ctx.step(s, msg);
        } catch {
          ctx.log(`official: ${line}`);
        }
      }
      cb();
    },
  });
}

/**
 * Runs the official backup: the image's plain tar on stdout → (OpenPGP with ctx.passphrase,
 * here) → hashing → `sink`. Resolves with the size and SHA-256 of what the sink got.
 */
export async function officialBackup(ctx: OfficialContext, sink: FileSink): Promise<Written> {
  const { docker, signal } = ctx;
  throwIfAborted(signal);
  const hasBridge = (await docker.listNetworks({ filters: { name: ['bridge'] } })).some((n) => n.Name === 'bridge');
  const cmd = officialArgs();
  const create = () =>
    docker.createContainer({
      name: OFFICIAL_CONTAINER_NAME,
      Image: ctx.image,
      Cmd: cmd,
      // --interactive
      OpenStdin: true,
      StdinOnce: true,
      AttachStdin: true,
      AttachStdout: true,
      AttachStderr: true,
      Labels: { 'com.ucp-backup.run': ctx.runId },
      HostConfig: {
        AutoRemove: true,
        LogConfig: { Type: 'none', Config: {} },
        Binds: [`${ctx.dockerSocket ?? '/var/run/docker.sock'}:/var/run/docker.sock`],
        SecurityOpt: ctx.node.selinux ? ['label=disable'] : undefined,
        // The backup talks only to the socket; nodes without a default bridge need "none".
        NetworkMode: hasBridge ? undefined : 'none',
      },
    });
  let container: Docker.Container;
  try {
    container = await create().catch(async (err: unknown) => {
      if (statusCode(err) !== 409 || !(await removeOurLeftover(docker))) throw err;
      return create();
    });
  } catch (err) {
    if (statusCode(err) === 409) {
      throw new BackupStepError('validation', `a container named "${OFFICIAL_CONTAINER_NAME}" already exists on ${ctx.node.hostname}`, 'A previous official backup may have crashed: check it with `docker ps -a --filter name=^/ucp$`, then remove it with `docker rm -f ucp`.');
    }
    throw err;
  }
  ctx.log(`official: docker container run --rm --interactive --log-driver none${ctx.node.selinux ? ' --security-opt label=disable' : ''} --name ${OFFICIAL_CONTAINER_NAME} --volume ${ctx.dockerSocket ?? '/var/run/docker.sock'}:/var/run/docker.sock ${ctx.image} ${cmd.join(' ')}${ctx.passphrase !== undefined ? ' (encrypted on this machine)' : ''}`);
  let lastError = '';
  const stderr = jsonlogReader(ctx, (m) => (lastError = m));
  // Counts the plain bytes the image streamed (the ciphertext of nothing is not empty).
  let stdoutBytes = 0;
  const stdout = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      stdoutBytes += chunk.length;
      cb(null, chunk);
    },
  });
  let stream: Duplex | undefined;
  let exited: Promise<{ StatusCode: number }> | undefined;
  // Cancel = SIGTERM, so the image can unpause what it paused and remove its helpers;
  // SIGKILL only if it has not exited after a grace period.
  let killTimer: NodeJS.Timeout | undefined;
  const onAbort = () => {
    container.kill({ signal: 'SIGTERM' }).catch(() => undefined);
    killTimer = setTimeout(() => {
      container.kill({ signal: 'SIGKILL' }).catch(() => undefined);
      stream?.destroy();
    }, KILL_GRACE_MS);
  };
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    stream = (await container.attach({ stream: true, stdin: true, stdout: true, stderr: true, hijack: true })) as unknown as Duplex;
    // Nothing to answer on stdin: end it so the image never waits for input.
    stream.end();
    exited = container.wait({ condition: 'next-exit' }) as Promise<{ StatusCode: number }>;
    // Observed before it is awaited: a failed start must not leave an unhandled rejection.
    exited.catch(() => undefined);
    await container.start();
    throwIfAborted(signal);
    const split = demux(stream, stdout, stderr).then(() => stdout.end());
    // The same encrypt → hash → write stage as the built-in engine's output.
    const [, written] = await Promise.all([split, writeOut(stdout, sink, ctx.passphrase)]);
    // The exit status follows the end of the output at once; a wait whose connection died can
    // stay pending for ever, so it is bounded.
    const { StatusCode } = await within(exited, EXIT_WAIT_MS, () => {
      throw new BackupStepError('write', `${ctx.image} ended its output but its exit status did not arrive within ${EXIT_WAIT_MS / 1000} s`);
    });
    throwIfAborted(signal);
    if (StatusCode !== 0) throw new BackupStepError('write', `${ctx.image} backup exited with code ${StatusCode}${lastError ? `: ${lastError}` : ''}`);
    // An exit 0 with nothing on stdout is not a backup.
    if (stdoutBytes === 0) throw new BackupStepError('write', `${ctx.image} backup wrote nothing to stdout`);
    return written;
  } catch (err) {
    if (signal?.aborted) throw new CancelledError();
    if (err instanceof BackupStepError) throw err;
    throw new BackupStepError('write', `the official backup failed: ${dockerMessage(err)}`, undefined, { cause: err });
  } finally {
    signal?.removeEventListener('abort', onAbort);
    clearTimeout(killTimer);
    stream?.destroy();
    // --rm removes it on exit; make sure a killed or failed run leaves nothing either. Bounded:
    // after a lost connection dockerd holds the removal until the node's end of the dead
    // attach connection closes; then --rm finishes it (and the next run removes a leftover).
    await within(container.remove({ force: true }).catch(() => undefined), REMOVE_WAIT_MS, () => {
      ctx.log(`official: the ${OFFICIAL_CONTAINER_NAME} container on ${ctx.node.hostname} was not removed within ${REMOVE_WAIT_MS / 1000} s; --rm removes it once its old connection closes there, or the next backup does`);
    });
  }
}
