/**
 * A backup still on a manager (the spec's hostPath folder), streamed through the node's
 * SSH-tunnelled Docker socket without downloading it first: a never-started helper
 * container bind-mounts the folder read-only and `GET /containers/{id}/archive` sends the
 * file wrapped in a one-entry tar, which is unwrapped on the fly. No shell or exec is needed,
 * so any UCP image on the node will do (TESTBED.md: the archive endpoints work on a created,
 * never-started container).
 */
import { randomUUID } from 'node:crypto';
import { posix } from 'node:path';
import { Readable } from 'node:stream';
import type Docker from 'dockerode';
import { UcpError } from '../errors';
import { ByteReader } from '../archive/byteReader';
import { createHelper, dockerMessage, removeQuietly, statusCode } from '../engine/dockerStreams';
import { ownerLabels, removeOrphanHelpers } from '../engine/orphanHelpers';
import { verifyBackup, type VerifyOptions, type VerifySource } from './verify';
import type { VerifyReport } from './report';

export class RemoteBackupNotFoundError extends UcpError {
  constructor(path: string, node: string, why: string) {
    super(`Cannot read ${path} on ${node}: ${why}.`, 'Check the path: it is a file in the backup folder on that manager (e.g. /var/backups/ucp/backup.tar).', 2);
  }
}

/** Verifies `hostPath` (an absolute file path on the node) as verifyBackup does a local file. */
export async function verifyRemoteBackup(docker: Docker, nodeName: string, hostPath: string, options: VerifyOptions = {}): Promise<VerifyReport> {
  return withRemoteSource(docker, nodeName, hostPath, options.signal, (source) => verifyBackup(source, options));
}

/** `use` gets `hostPath` as a one-read stream source (the restore drill reads it so too); the helper goes afterwards. */
export async function withRemoteSource<T>(docker: Docker, nodeName: string, hostPath: string, signal: AbortSignal | undefined, use: (source: VerifySource & { kind: 'stream' }) => Promise<T>): Promise<T> {
  if (!posix.isAbsolute(hostPath) || hostPath.endsWith('/')) throw new RemoteBackupNotFoundError(hostPath, nodeName, 'give the absolute path of the backup file');
  const dir = posix.dirname(hostPath);
  const file = posix.basename(hostPath);
  const image = await anyLocalImage(docker, nodeName);
  // Helpers of verifies and drills killed outright (nothing else removes them).
  await removeOrphanHelpers(docker);
  let helper: Docker.Container | undefined;
  try {
    try {
      helper = await createHelper(docker, {
        runId: randomUUID(),
        purpose: 'verify',
        Labels: ownerLabels(),
        Image: image,
        Entrypoint: ['/ucp-backup-helper-never-started'],
        HostConfig: {
          // A Mounts bind fails when the folder is missing instead of creating it.
          Mounts: [{ Type: 'bind', Source: dir, Target: '/backup', ReadOnly: true }],
          SecurityOpt: ['label=disable'], // SELinux hosts: otherwise the folder is unreadable
        },
      });
    } catch (err) {
      throw new RemoteBackupNotFoundError(hostPath, nodeName, dockerMessage(err));
    }
    const container = helper;
    const source = {
      kind: 'stream' as const,
      label: `${nodeName}:${hostPath}`,
      size: undefined as number | undefined,
      open: async () => {
        let wrapped: Readable;
        try {
          wrapped = (await container.getArchive({ path: `/backup/${file}`, abortSignal: signal } as { path: string })) as unknown as Readable;
        } catch (err) {
          throw new RemoteBackupNotFoundError(hostPath, nodeName, statusCode(err) === 404 ? 'no such file' : dockerMessage(err));
        }
        const { size, body } = await unwrapSingleFile(wrapped, hostPath, nodeName);
        source.size = size;
        return Readable.from(body, { objectMode: false });
      },
    };
    return await use(source);
  } finally {
    await removeQuietly(helper);
  }
}

/** An image already on the node (nothing is pulled): UCP's own first. */
async function anyLocalImage(docker: Docker, nodeName: string): Promise<string> {
  const images = await docker.listImages();
  const tags = images.flatMap((i) => i.RepoTags ?? []).filter((t) => t !== '<none>:<none>');
  const ucp = tags.find((t) => /(^|\/)ucp-(agent|proxy|controller)[:@]/.test(t)) ?? tags.find((t) => /(^|\/)ucp[-:]/.test(t));
  const pick = ucp ?? tags[0] ?? images[0]?.Id;
  if (!pick) throw new UcpError(`No Docker image on ${nodeName} to run a helper container with.`, 'Verify needs any image on the node (UCP brings its own); or download the backup and verify it locally.', 2);
  return pick;
}

/**
 * The data of the first regular file in a tar stream (Docker's archive of one file), as it
 * arrives. pax/GNU long-name headers before it are skipped.
 */
async function unwrapSingleFile(tar: Readable, path: string, node: string): Promise<{ size: number; body: AsyncGenerator<Buffer> }> {
  const r = new ByteReader(tar as AsyncIterable<Buffer>, 'archive stream from Docker');
  for (;;) {
    const h = await r.readExact(512);
    if (h.every((b) => b === 0)) throw new RemoteBackupNotFoundError(path, node, 'Docker sent an empty archive');
    const type = String.fromCharCode(h[156] || 0x30);
    const size = octal(h.subarray(124, 136));
    if (type === '0' || type === '7') return { size, body: r.take(size) };
    if (type === '5') throw new RemoteBackupNotFoundError(path, node, 'it is a folder, not a file');
    if (type === '2' || type === '1') throw new RemoteBackupNotFoundError(path, node, 'it is a link; give the path of the file itself');
    for await (const _ of r.take(size + ((512 - (size % 512)) % 512))); // pax or long-name record: skip
  }
}

function octal(field: Buffer): number {
  if (field[0] & 0x80) {
    let v = 0;
    for (let i = 1; i < field.length; i++) v = v * 256 + field[i];
    return v;
  }
  return parseInt(field.toString('latin1').replace(/\0.*$/s, '').trim() || '0', 8);
}
