/**
 * The drill's etcd part in the cluster (the default): the snapshot is restored and served by
 * the cluster's own etcd version — the image the manager's ucp-kv runs — in throwaway
 * containers with `--network none`; the running ucp-kv is never touched.
 *
 * The snapshot (decrypted on the admin's machine: the passphrase never leaves it) goes in with
 * `PUT archive` into a volume of its own, so it is in no argv, env or container config. One
 * container runs `snapshot restore` (etcdutl, or etcdctl before etcd 3.5) into that volume, a
 * second serves it with etcd on 127.0.0.1 of its own empty network namespace and is asked with
 * `docker exec etcdctl`. Both and the volume go whatever happens (close() in `finally`; SIGTERM
 * aborts the CLI's signal first); what a SIGKILLed CLI left, the next drill on the node removes.
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { posix } from 'node:path';
import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import type Docker from 'dockerode';
import { CancelledError, throwIfAborted } from '../errors';
import { CappedText, createHelper, demux, dockerMessage, HELPER_LABEL, removeQuietly, within, REMOVE_WAIT_MS } from '../engine/dockerStreams';
import { encodeEntryHeader, normalize, padding, ZERO_BLOCKS } from '../engine/tarHeaders';
import { findContainer, inspectUcpNode, type UcpNodeInfo } from '../engine/ucpNode';
import type { EtcdBackend, ServedMember } from './etcdBackend';
import { EtcdToolError, explain, prefixList, topPrefix, type MemberFigures, type SnapshotStatus } from './etcdLocal';

/** On every container and volume of a drill: when it was made (ms), so leftovers can be told from a running drill. */
export const DRILL_LABEL = 'com.ucp-backup.drill';
/**
 * A drill takes seconds to minutes: a drill container not running after this long was left by a
 * killed CLI or a closed VS Code window (a volume then cannot be removed while a live drill uses it)…
 */
export const STALE_AFTER_MS = 10 * 60 * 1000;
/** …and a running one after this long (the member of a drill whose process is gone). */
export const STALE_RUNNING_AFTER_MS = 60 * 60 * 1000;
const MOUNT = '/drill';
const SNAPSHOT = `${MOUNT}/etcd.backup.db`;
const DATA = `${MOUNT}/data`;
const CLIENT = 'http://127.0.0.1:2379';
const PEER = 'http://127.0.0.1:2380';
const CLUSTER_FLAGS = ['--name', 'drill', '--initial-cluster', `drill=${PEER}`, '--initial-advertise-peer-urls', PEER];
const START_TIMEOUT_MS = 30_000;
/** Every key of a real UCP store, keys only, as JSON: tens of MiB at most. */
const MAX_KEYS_JSON = 256 << 20;
const ENV = ['ETCDCTL_API=3'];
/** The endpoint by env, not flag: etcdctl 3.4 refuses a flag that an ETCDCTL_* variable also sets (even to ""). */
const EXEC_ENV = [...ENV, `ETCDCTL_ENDPOINTS=${CLIENT}`];

export class ClusterEtcd implements EtcdBackend {
  readonly description: string;
  private readonly runId = randomUUID();
  private readonly volume = `ucp-backup-drill-${this.runId.slice(0, 8)}`;
  private readonly made: Docker.Container[] = [];
  private volumeMade = false;
  private util = 'etcdctl';
  private member?: Docker.Container;

  private constructor(
    private readonly docker: Docker,
    readonly node: UcpNodeInfo,
    private readonly image: { id: string; name: string; etcd: string; path: string[] },
    private readonly log: (line: string) => void,
  ) {
    this.description = `${image.name} (the image ucp-kv runs) on ${node.hostname}, --network none`;
  }

  /** The manager's UCP, its ucp-kv's image, and leftovers of killed drills removed. */
  static async open(docker: Docker, nodeName: string, log: (line: string) => void = () => undefined): Promise<ClusterEtcd> {
    const node = await inspectUcpNode(docker, nodeName);
    const kv = await docker.getContainer(findContainer(node, 'ucp-kv').id).inspect();
    const img = await docker.getImage(kv.Image).inspect();
    const envPath = (img.Config?.Env ?? []).find((e) => e.startsWith('PATH='))?.slice(5) ?? '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
    // ucp-kv runs etcd itself; its path is the surest way to it in an image we do not know.
    const etcd = posix.basename(kv.Path) === 'etcd' ? kv.Path : 'etcd';
    await removeStaleDrills(docker, log);
    return new ClusterEtcd(docker, node, { id: kv.Image, name: kv.Config.Image, etcd, path: envPath.split(':').filter(Boolean) }, log);
  }

  async restore(snapshotFile: string, signal?: AbortSignal): Promise<void> {
    const labels = { [DRILL_LABEL]: String(Date.now()) };
    await this.docker.createVolume({ Name: this.volume, Labels: { ...labels, [HELPER_LABEL]: this.runId } });
    this.volumeMade = true;
    // Created first, started after the restore: it takes the snapshot in and finds the tools.
    this.member = await this.container('drill-etcd', [this.image.etcd], [...CLUSTER_FLAGS, '--data-dir', DATA, '--listen-client-urls', CLIENT, '--advertise-client-urls', CLIENT, '--listen-peer-urls', PEER, '--logger', 'zap', '--log-outputs', 'stderr'], labels);
    await putFile(this.member, snapshotFile, signal);
    this.util = (await this.has(this.member, 'etcdutl')) ? 'etcdutl' : 'etcdctl';
    const r = await this.container('drill-restore', [this.util], ['snapshot', 'restore', SNAPSHOT, '--data-dir', DATA, ...CLUSTER_FLAGS], labels);
    // Asked before the start so a quick exit is not missed: 'next-exit' (the default returns at once for a created container).
    const exited = r.wait({ condition: 'next-exit' }) as Promise<{ StatusCode: number }>;
    exited.catch(() => undefined); // settles after a cancel too: the container is removed then
    await r.start();
    const code = await untilAborted(exited, signal);
    if (code.StatusCode !== 0) throw new EtcdToolError(explain(await logs(r)) || `${this.util} snapshot restore exited ${code.StatusCode}`);
  }

  async serve(signal?: AbortSignal): Promise<ServedMember> {
    const m = this.member!;
    await m.start();
    const deadline = Date.now() + START_TIMEOUT_MS;
    let status: { version?: string } | undefined;
    while (!status) {
      throwIfAborted(signal);
      const r = await exec(m, ['etcdctl', '--command-timeout', '2s', 'endpoint', 'status', '-w', 'json'], signal);
      if (r.exitCode === 0) status = (JSON.parse(r.stdout) as { Status?: { version?: string } }[])[0]?.Status ?? {};
      else {
        const state = (await m.inspect()).State;
        if (!state.Running) throw new EtcdToolError(`etcd exited (${state.ExitCode}) before answering: ${explain(await logs(m)) || 'no output'}`);
        // Only a member that is still starting is waited for; etcdctl failing otherwise is said at once.
        if (!/connection refused|deadline exceeded|Unavailable|unhealthy|not started|no leader/i.test(r.stderr)) throw new EtcdToolError(`etcdctl endpoint status failed in the drill's container: ${explain(r.stderr) || `exit ${r.exitCode}`}`);
        if (Date.now() > deadline) throw new EtcdToolError(`etcd did not answer within ${START_TIMEOUT_MS / 1000} s: ${explain(await logs(m)) || r.stderr.trim()}`);
        await new Promise((res) => setTimeout(res, 200));
      }
    }
    const version = status.version;
    return {
      where: `container ${m.id.slice(0, 12)} on ${this.node.hostname} (${CLIENT} inside, no network)`,
      status: async (s) => {
        const r = await exec(m, [this.util, 'snapshot', 'status', SNAPSHOT, '-w', 'json'], s);
        if (r.exitCode !== 0) throw new EtcdToolError(explain(r.stderr) || `snapshot status exited ${r.exitCode}`);
        const st = JSON.parse(r.stdout) as SnapshotStatus;
        if (![st.hash, st.revision, st.totalKey, st.totalSize].every(Number.isFinite)) throw new EtcdToolError(`unexpected snapshot status output: ${r.stdout.slice(0, 200)}`);
        return st;
      },
      figures: (s) => this.figures(m, version, s),
      stop: async () => {
        await removeQuietly(m, this.log);
      },
    };
  }

  /** Every key (keys only) in one answer: no key has to be written into an argv to page on from it. */
  private async figures(m: Docker.Container, version: string | undefined, signal?: AbortSignal): Promise<MemberFigures> {
    const r = await exec(m, ['etcdctl', '--command-timeout', '60s', 'get', '', '--from-key', '--keys-only', '-w', 'json'], signal, MAX_KEYS_JSON);
    if (r.exitCode !== 0) throw new EtcdToolError(explain(r.stderr) || `etcdctl get exited ${r.exitCode}`);
    if (r.stdout.length >= MAX_KEYS_JSON) throw new EtcdToolError(`the store's key listing is over ${MAX_KEYS_JSON >> 20} MiB; not counted`);
    const j = JSON.parse(r.stdout) as { header?: { revision?: number | string }; kvs?: { key: string }[]; count?: number | string };
    const counts = new Map<string, number>();
    for (const kv of j.kvs ?? []) {
      const p = topPrefix(Buffer.from(kv.key, 'base64').toString('utf8'));
      counts.set(p, (counts.get(p) ?? 0) + 1);
    }
    return { version, revision: Number(j.header?.revision ?? NaN), keys: (j.kvs ?? []).length, prefixes: prefixList(counts) };
  }

  async close(): Promise<void> {
    for (const c of this.made.splice(0)) await removeQuietly(c, this.log);
    if (this.volumeMade) {
      this.volumeMade = false;
      const gone = this.docker
        .getVolume(this.volume)
        .remove()
        .catch((err) => this.log(`cleanup: volume ${this.volume} on ${this.node.hostname} was not removed (${dockerMessage(err)}); the next drill there removes it`));
      await within(gone, REMOVE_WAIT_MS, () => this.log(`cleanup: volume ${this.volume} is still being removed on ${this.node.hostname}`));
    }
  }

  private async container(purpose: string, entrypoint: string[], cmd: string[], labels: Record<string, string>): Promise<Docker.Container> {
    const c = await createHelper(this.docker, {
      runId: this.runId,
      purpose,
      Image: this.image.id,
      Entrypoint: entrypoint,
      Cmd: cmd,
      Env: ENV,
      // Root of its own empty container, without capabilities: writes only into its volume (owned by root).
      User: '0:0',
      Labels: labels,
      HostConfig: {
        NetworkMode: 'none',
        Mounts: [{ Type: 'volume', Source: this.volume, Target: MOUNT }],
        CapDrop: ['ALL'],
        ReadonlyRootfs: true,
        SecurityOpt: ['no-new-privileges', ...(this.node.selinux ? ['label=disable'] : [])],
      },
    });
    this.made.push(c);
    return c;
  }

  /** Is `name` on the image's PATH (HEAD archive on a never-started container)? */
  private async has(c: Docker.Container, name: string): Promise<boolean> {
    for (const dir of this.image.path) {
      if (await c.infoArchive({ path: posix.join(dir, name) }).then(() => true, () => false)) return true;
    }
    return false;
  }
}

/**
 * `work`, or CancelledError as soon as `signal` aborts. Not dockerode's abortSignal for a wait:
 * Docker answers its headers at once, and an abort of the body then never settles the call.
 */
function untilAborted<T>(work: Promise<T>, signal?: AbortSignal): Promise<T> {
  if (!signal) return work;
  if (signal.aborted) return Promise.reject(new CancelledError());
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(new CancelledError());
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

/** One file into the volume as `etcd.backup.db`, root-owned 0600: a one-entry tar, streamed from the file. */
async function putFile(c: Docker.Container, file: string, signal?: AbortSignal): Promise<void> {
  const { size } = await stat(file);
  const header = normalize({ name: posix.basename(SNAPSHOT), size, mode: 0o600, uid: 0, gid: 0 });
  async function* oneEntryTar() {
    yield* encodeEntryHeader(header);
    yield* createReadStream(file, { signal });
    const pad = padding(size);
    if (pad) yield pad;
    yield ZERO_BLOCKS;
  }
  try {
    const put = c.putArchive(Readable.from(oneEntryTar()), { path: MOUNT, abortSignal: signal } as { path: string });
    put.catch(() => undefined);
    await untilAborted(put, signal);
  } catch (err) {
    throw signal?.aborted ? new CancelledError() : new EtcdToolError(`could not copy the snapshot into the drill's volume: ${dockerMessage(err)}`);
  }
}

async function exec(c: Docker.Container, cmd: string[], signal?: AbortSignal, limit = 1 << 20): Promise<{ exitCode: number; stdout: string; stderr: string }> {
  throwIfAborted(signal);
  const e = await c.exec({ Cmd: cmd, Env: EXEC_ENV, AttachStdout: true, AttachStderr: true });
  const stream = (await e.start({ hijack: true, stdin: false })) as unknown as Readable;
  const onAbort = () => stream.destroy(new Error('aborted'));
  signal?.addEventListener('abort', onAbort, { once: true });
  const out = new CappedText(limit);
  const err = new CappedText();
  try {
    await demux(stream, out.sink, err.sink).catch((x) => {
      throw signal?.aborted ? new CancelledError() : x;
    });
  } finally {
    signal?.removeEventListener('abort', onAbort);
  }
  throwIfAborted(signal);
  return { exitCode: (await e.inspect()).ExitCode ?? -1, stdout: out.text(), stderr: err.text() };
}

async function logs(c: Docker.Container): Promise<string> {
  const buf = (await c.logs({ stdout: true, stderr: true, follow: false, tail: 200 })) as unknown as Buffer;
  const text = new CappedText();
  await demux(Readable.from([buf]), text.sink, text.sink);
  return text.text();
}

/** Containers and volumes of drills whose CLI was killed (SIGKILL, a crash): older than any drill runs. */
export async function removeStaleDrills(docker: Docker, log: (line: string) => void): Promise<number> {
  const stale = (labels: Record<string, string> | undefined, after = STALE_AFTER_MS) => Date.now() - Number(labels?.[DRILL_LABEL] ?? Date.now()) > after;
  let n = 0;
  for (const c of await docker.listContainers({ all: true, filters: { label: [DRILL_LABEL] } })) {
    if (!stale(c.Labels, c.State === 'running' ? STALE_RUNNING_AFTER_MS : STALE_AFTER_MS)) continue;
    await removeQuietly(docker.getContainer(c.Id), log);
    n++;
  }
  const { Volumes } = await docker.listVolumes({ filters: { label: [DRILL_LABEL] } });
  for (const v of Volumes ?? []) {
    if (!stale(v.Labels ?? undefined)) continue;
    await docker.getVolume(v.Name).remove().catch((err) => log(`cleanup: stale drill volume ${v.Name}: ${dockerMessage(err)}`));
    n++;
  }
  return n;
}
