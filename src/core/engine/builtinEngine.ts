/**
 * The built-in engine: the spec's steps (container metadata → volumes → etcd → rethinkDB →
 * encrypt/write) producing the real archive layout (real-backup-layout.md) as one stream.
 * Needs no UCP image pull: helper containers use an image already on the node.
 */
import type Docker from 'dockerode';
import { ArchiveWriter } from './archiveWriter';
import { authStoreDump } from './authStore';
import type { FileSink } from './destination';
import { removeQuietly } from './dockerStreams';
import { etcdSnapshot } from './etcdSnapshot';
import { writeOut, type Written } from './outputPipeline';
import { hashThreadPays } from '../archive/parallelSha1';
import { findContainer, type UcpNodeInfo } from './ucpNode';
import { BACKED_UP_VOLUMES, backupVolume, createVolumeReader } from './volumeEntries';
import type { StepName } from '../progress';
import type { StepTimer } from './stepTimer';
import { throwIfAborted } from '../errors';

export interface EngineContext {
  docker: Docker;
  node: UcpNodeInfo;
  runId: string;
  /** Image already on the node for never-started helper containers. */
  helperImage: string;
  passphrase?: string;
  /** Stores "this run has ucp-auth-store paused" (true, before the pause) and clears it (false). */
  markAuthStorePaused?(paused: boolean): Promise<void>;
  step(step: StepName, message: string, percent?: number, bytes?: number): void;
  log(line: string): void;
  signal?: AbortSignal;
  /** Where the run's time goes (runBackup's timer): the engine marks its own steps. */
  timer?: StepTimer;
}

export interface Manifest {
  format: 'ucp-backup-manifest/1';
  ucpVersion: string;
  imageNamespace: string;
  node: string;
  nodeId: string;
  engine: string;
  engineVersion: string;
  created: string;
  /** `snapshot status` of the snapshot, and `keys`: the live store's key count at its revision (the restore drill compares both). */
  etcd?: { revision: number; totalKey: number; totalSize: number; hash: number; keys?: number };
  /** pausedMs: how long ucp-auth-store was paused for the copy, shown by the restore drill. */
  authStore: { method: 'volume-copy'; paused: boolean; pausedMs?: number };
  entries: { name: string; type: string; size: number; sha256?: string; mode: string; uid: number; gid: number }[];
}

/**
 * Container inspects with up to `ahead` in flight: getter i resolves with the i-th document.
 * Each request starts only when asked for or when one `ahead` before it is, so a failure or
 * cancel leaves at most `ahead` requests behind.
 */
export function inspectAhead(docker: Docker, ids: readonly string[], ahead: number): (() => Promise<unknown>)[] {
  const started: Promise<unknown>[] = [];
  const start = (i: number) => {
    if (i < ids.length && !started[i]) {
      started[i] = docker.getContainer(ids[i]).inspect();
      started[i].catch(() => undefined); // surfaced when its getter is called
    }
  };
  return ids.map((_, i) => () => {
    for (let j = i; j < i + ahead; j++) start(j);
    return started[i];
  });
}

/** Percent of the whole run at the start of each step (coarse; volume bytes refine it). */
const AT = { metadata: 5, volumes: 10, etcd: 60, rethinkdb: 75, write: 90 } as const;

export async function builtinBackup(ctx: EngineContext, sink: FileSink): Promise<Written & { manifest: Manifest }> {
  const { docker, node, signal } = ctx;
  const writer = new ArchiveWriter(signal);
  const stamp = String(Date.now());
  const dir = `./ucp-backup/${stamp}/`;
  // Hashing on second threads when a core is free (measured: docs/bench-backup.md).
  const out = writeOut(writer.pack, sink, ctx.passphrase, { signal, hashThreads: hashThreadPays() });
  // If the output side fails first, stop producing at once.
  out.catch((err) => writer.destroy(err));
  let authPaused = false;
  let pausedAt: number | undefined;
  let pausedMs: number | undefined;
  let etcd: Manifest['etcd'];
  try {
    // Container metadata: `./<container>.json`, the inspect document of each UCP container.
    ctx.step('metadata', `Saving the inspect data of ${node.containers.length} UCP containers`, AT.metadata);
    // A few inspects in flight at once (one round trip each over SSH), written in order.
    const docs = inspectAhead(docker, node.containers.map((c) => c.id), 4);
    for (const [i, c] of node.containers.entries()) {
      throwIfAborted(signal);
      const doc = await docs[i]();
      // Epoch mtime and root ownership, as in the real archive's listing.
      await writer.addBuffer({ name: `./${c.name}.json`, mode: 0o644, uid: 0, gid: 0, mtime: new Date(0) }, Buffer.from(JSON.stringify(doc, null, 2)));
    }

    ctx.timer?.mark('metadata');
    ctx.step('volumes', `Backing up volumes ${BACKED_UP_VOLUMES.join(', ')}`, AT.volumes);
    const reader = await createVolumeReader(docker, BACKED_UP_VOLUMES, { image: ctx.helperImage, runId: ctx.runId, selinux: node.selinux }, 'volumes');
    try {
      for (const [i, v] of BACKED_UP_VOLUMES.entries()) {
        const percent = AT.volumes + Math.round(((AT.etcd - AT.volumes) * i) / BACKED_UP_VOLUMES.length);
        ctx.step('volumes', `Backing up volume ${v}`, percent, writer.dataBytes);
        // Byte progress inside a volume: on its first data and then every MiB.
        let copied = 0;
        let reported = -1;
        const n = await backupVolume(reader, v, writer, signal, (bytes) => {
          copied += bytes;
          if (reported >= 0 && copied - reported < 1 << 20) return;
          reported = copied;
          ctx.step('volumes', `Backing up volume ${v}: ${copied} bytes`, percent, writer.dataBytes);
        });
        ctx.log(`volumes: ${v}: ${n} entries, ${copied} bytes`);
      }
    } finally {
      await removeQuietly(reader, ctx.log);
    }

    await writer.addEmpty({ name: './ucp-backup/', type: 'directory', mode: 0o755, uid: 65534, gid: 65534, uname: 'nobody', gname: 'nobody', mtime: new Date() });
    await writer.addEmpty({ name: dir, type: 'directory', mode: 0o755, uid: 65534, gid: 65534, uname: 'nobody', gname: 'nobody', mtime: new Date() });

    ctx.timer?.mark('volumes');
    ctx.step('etcd', 'Taking an etcd snapshot in ucp-kv', AT.etcd, writer.dataBytes);
    const kv = docker.getContainer(findContainer(node, 'ucp-kv').id);
    const st = await etcdSnapshot(kv, ctx.runId, `${dir}etcd.backup.db`, writer, ctx.log, signal);
    etcd = { revision: st.revision, totalKey: st.totalKey, totalSize: st.totalSize, hash: st.hash, keys: st.keys };

    ctx.timer?.mark('etcd');
    ctx.step('rethinkdb', 'Backing up the auth store (ucp-auth-store is paused during the copy)', AT.rethinkdb, writer.dataBytes);
    const auth = docker.getContainer(findContainer(node, 'ucp-auth-store').id);
    await authStoreDump(docker, auth, { image: ctx.helperImage, runId: ctx.runId, selinux: node.selinux }, `${dir}auth-store.tar.gz`, writer, ctx.log, async (p) => {
      authPaused ||= p;
      // Timed between the record's updates: from just before the pause to just after the unpause.
      if (!p && pausedAt !== undefined) pausedMs = Date.now() - pausedAt;
      await ctx.markAuthStorePaused?.(p);
      if (p) pausedAt = Date.now();
    }, signal);

    ctx.timer?.mark('rethinkdb');
    ctx.step('write', ctx.passphrase ? 'Encrypting and writing the archive' : 'Writing the archive', AT.write, writer.dataBytes);
    const manifest: Manifest = {
      format: 'ucp-backup-manifest/1',
      ucpVersion: node.ucpVersion,
      imageNamespace: node.namespace,
      node: node.hostname,
      nodeId: node.nodeId,
      engine: 'builtin',
      engineVersion: node.engineVersion,
      created: new Date(Number(stamp)).toISOString(),
      etcd,
      authStore: { method: 'volume-copy', paused: authPaused, pausedMs },
      entries: writer.entries.map((e) => ({ name: e.name, type: e.type, size: e.size, sha256: e.sha256, mode: e.mode.toString(8).padStart(4, '0'), uid: e.uid, gid: e.gid })),
    };
    await writer.addBuffer({ name: `${dir}manifest.json`, mode: 0o644, uid: 65534, gid: 65534, uname: 'nobody', gname: 'nobody', mtime: new Date() }, Buffer.from(JSON.stringify(manifest, null, 2)));
    writer.finalize();
    const written = await out;
    ctx.timer?.mark('write');
    return { ...written, manifest };
  } catch (err) {
    writer.destroy(err as Error);
    await out.catch(() => undefined);
    throw err;
  }
}
