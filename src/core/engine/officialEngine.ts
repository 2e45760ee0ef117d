/**
 * The official engine: runs `docker/ucp:<version>` (or `mirantis/ucp:<version>`) exactly as
 * the spec shows — `--rm --interactive --log-driver none --name ucp`, the node's Docker socket
 * at /var/run/docker.sock, `--security-opt label=disable` under SELinux, `backup
 * --passphrase … | --no-passphrase` — in the spec's stdout form ("streams it to stdout"), so
 * the archive flows into the same destination sink as the built-in engine's. `--jsonlog`
 * progress on stderr becomes our progress events.
 */
import { PassThrough, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type Docker from 'dockerode';
import type { FileSink } from './destination';
import { demux, dockerMessage, statusCode } from './dockerStreams';
import { BackupStepError, OfficialImageMissingError } from './errors';
import { hashing, type Written } from './outputPipeline';
import type { UcpNodeInfo } from './ucpNode';
import type { StepName } from '../progress';
import { throwIfAborted, CancelledError } from '../errors';

export const OFFICIAL_CONTAINER_NAME = 'ucp';

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

/** The `backup` arguments of the spec (stdout form); `--jsonlog` for machine-readable progress. */
export function officialArgs(passphrase: string | undefined): string[] {
  return ['backup', ...(passphrase !== undefined ? ['--passphrase', passphrase] : ['--no-passphrase']), '--jsonlog'];
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
  passphrase?: string;
  /** The node's Docker socket path (NodeConfig.dockerSocket). */
  dockerSocket?: string;
  step(step: StepName, message: string, percent?: number, bytes?: number): void;
  log(line: string): void;
  signal?: AbortSignal;
}

export async function officialBackup(ctx: OfficialContext, sink: FileSink): Promise<Written> {
  const { docker, signal } = ctx;
  throwIfAborted(signal);
  const hasBridge = (await docker.listNetworks({ filters: { name: ['bridge'] } })).some((n) => n.Name === 'bridge');
  let container: Docker.Container;
  try {
    container = await docker.createContainer({
      name: OFFICIAL_CONTAINER_NAME,
      Image: ctx.image,
      Cmd: officialArgs(ctx.passphrase),
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
  } catch (err) {
    if (statusCode(err) === 409) {
      throw new BackupStepError('validation', `a container named "${OFFICIAL_CONTAINER_NAME}" already exists on ${ctx.node.hostname}`, 'A previous official backup may have crashed: check it with `docker ps -a --filter name=^/ucp$`, then remove it with `docker rm -f ucp`.');
    }
    throw err;
  }
  ctx.log(`official: running ${ctx.image} ${officialArgs(ctx.passphrase !== undefined ? '<passphrase>' : undefined).join(' ')}`);
  const stream = (await container.attach({ stream: true, stdin: true, stdout: true, stderr: true, hijack: true })) as unknown as NodeJS.ReadWriteStream & import('node:stream').Duplex;
  // Nothing to answer on stdin: end it so the image never waits for input.
  stream.end();
  const exited = container.wait({ condition: 'next-exit' }) as Promise<{ StatusCode: number }>;
  const stdout = new PassThrough();
  let lastError = '';
  let pending = '';
  const stderr = new Writable({
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
          if (j.level === 'error' || j.level === 'fatal') lastError = msg;
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
  const counted = hashing();
  const onAbort = () => {
    container.kill().catch(() => undefined);
    stream.destroy();
  };
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    await container.start();
    const split = demux(stream, stdout, stderr).then(() => stdout.end());
    await Promise.all([split, pipeline(stdout, counted, sink.stream)]);
    const { StatusCode } = await exited;
    throwIfAborted(signal);
    if (StatusCode !== 0) throw new BackupStepError('write', `${ctx.image} backup exited with code ${StatusCode}${lastError ? `: ${lastError}` : ''}`);
    return counted.result();
  } catch (err) {
    if (signal?.aborted) throw new CancelledError();
    if (err instanceof BackupStepError) throw err;
    throw new BackupStepError('write', `the official backup failed: ${dockerMessage(err)}`, undefined, { cause: err });
  } finally {
    signal?.removeEventListener('abort', onAbort);
    // --rm removes it on exit; make sure a killed or failed run leaves nothing either.
    await container.remove({ force: true }).catch(() => undefined);
  }
}
