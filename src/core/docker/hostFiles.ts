/**
 * Files of a backup kept in a folder on a manager (the spec's host-path form): read the
 * archive or its log, download it, delete it with its log and record. The folder is
 * bind-mounted into a never-started helper container and read with `docker cp` (GET
 * /containers/{id}/archive), so no shell or SSH file access to the node is needed.
 */
import { randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { PassThrough, Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type Docker from 'dockerode';
import * as tar from 'tar-stream';
import { pickHelperImage } from '../engine/helperImage';
import { inspectUcpNode } from '../engine/ucpNode';
import { dockerMessage, statusCode } from '../engine/dockerStreams';
import { UcpError } from '../errors';
import { removeClusterRecord } from '../history/clusterHistory';
import { LocalHistory } from '../history/localHistory';
import type { BackupRecord } from '../history/record';
import type { ProgressSink } from '../progress';

// Not the engine's helper label: a running backup removes leftover engine helpers, and must
// not remove the reader of a verify or download that runs at the same time.
const READER_LABEL = 'com.ucp-backup.reader';

/** A container with backupPath bind-mounted at /backup; never started unless `cmd` is given. */
async function folderContainer(docker: Docker, record: BackupRecord, opts: { shell: boolean; readOnly: boolean; cmd?: string[] }): Promise<Docker.Container> {
  const node = await inspectUcpNode(docker, record.nodeLocation);
  const id = randomUUID();
  const image = await pickHelperImage(docker, node, id, opts.shell);
  try {
    return await docker.createContainer({
      name: `ucp-backup-reader-${id.slice(0, 8)}`,
      Image: image,
      // nobody:nogroup owns the backup files (spec: the folder must be owned by nobody).
      User: '65534:65534',
      Entrypoint: opts.cmd ?? ['/ucp-backup-reader-never-started'],
      Labels: { [READER_LABEL]: id },
      HostConfig: {
        NetworkMode: 'none',
        Mounts: [{ Type: 'bind', Source: record.backupPath, Target: '/backup', ReadOnly: opts.readOnly }],
        SecurityOpt: node.selinux ? ['label=disable'] : undefined,
      },
    });
  } catch (err) {
    throw new UcpError(`Cannot open ${record.backupPath} on ${record.nodeLocation}: ${dockerMessage(err)}`, 'Check that the folder still exists on that node.');
  }
}

async function removeContainer(c: Docker.Container): Promise<void> {
  await c.remove({ force: true }).catch(() => undefined);
}

/** The archive (or its log) of a host-path backup as a stream; `size` from the tar header. */
export async function openHostFile(docker: Docker, record: BackupRecord, name = record.fileName): Promise<{ stream: Readable; size: number }> {
  const container = await folderContainer(docker, record, { shell: false, readOnly: true });
  try {
    let archive: Readable;
    try {
      archive = (await container.getArchive({ path: `/backup/${name}` })) as unknown as Readable;
    } catch (err) {
      if (statusCode(err) === 404) throw new UcpError(`${record.backupPath}/${name} is not on ${record.nodeLocation}.`, 'The file was moved or deleted; delete the record too.');
      throw err;
    }
    const extract = tar.extract();
    const first = new Promise<{ stream: Readable; size: number }>((resolve, reject) => {
      extract.once('entry', (header, stream, next) => {
        const out = new PassThrough({ highWaterMark: 256 * 1024 });
        stream.pipe(out);
        stream.on('end', next);
        resolve({ stream: out, size: header.size ?? 0 });
      });
      extract.once('error', reject);
      extract.once('finish', () => reject(new UcpError(`${record.backupPath}/${name} on ${record.nodeLocation} came back empty.`, 'Check the file on the node; it may be a folder or unreadable by nobody.')));
    });
    archive.pipe(extract);
    const result = await first;
    const done = () => void removeContainer(container);
    result.stream.once('close', done);
    result.stream.once('end', done);
    return result;
  } catch (err) {
    await removeContainer(container);
    throw err;
  }
}

/** Streams backupPath/fileName from nodeLocation to a local file; `.partial` until complete. */
export async function downloadHostFile(docker: Docker, record: BackupRecord, localPath: string, opts: { signal?: AbortSignal; onProgress?: ProgressSink } = {}): Promise<void> {
  const { stream, size } = await openHostFile(docker, record);
  const tmp = `${localPath}.partial-${randomUUID().slice(0, 8)}`;
  let bytes = 0;
  let last = 0;
  const count = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      bytes += chunk.length;
      if (bytes - last >= 4 * 1024 * 1024 || bytes === size) {
        last = bytes;
        opts.onProgress?.({ step: 'download', message: `${Math.round(bytes / 1048576)} of ${Math.round(size / 1048576)} MiB`, bytes, percent: size ? (bytes / size) * 100 : undefined });
      }
      cb(null, chunk);
    },
  });
  try {
    await pipeline(stream, count, createWriteStream(tmp, { mode: 0o600 }), { signal: opts.signal });
    await rename(tmp, localPath);
  } catch (err) {
    stream.destroy();
    await rm(tmp, { force: true });
    throw err;
  }
}

/** Removes the archive and its log on the node, as nobody (who owns them: spec). */
async function removeHostFiles(docker: Docker, record: BackupRecord): Promise<void> {
  const names = [record.fileName, record.logFileName].filter(Boolean).map((n) => `/backup/${n}`);
  const c = await folderContainer(docker, record, { shell: true, readOnly: false, cmd: ['rm', '-f', ...names] });
  try {
    await c.start();
    const r = (await c.wait()) as { StatusCode: number };
    if (r.StatusCode !== 0) throw new UcpError(`Could not delete ${names.join(', ')} on ${record.nodeLocation} (rm exit ${r.StatusCode}).`, "Check the folder's owner (nobody:nogroup) on that node.");
  } finally {
    await removeContainer(c);
  }
}

/**
 * Removes the archive, its log and the record (cluster copy and local history). `docker`
 * reaches the record's node for a host-path backup (any manager for a local one; undefined
 * when none is reachable: then only local files and the local record go).
 */
export async function deleteBackupFiles(docker: Docker | undefined, record: BackupRecord, local = new LocalHistory()): Promise<void> {
  // Only a SUCCESS record owns the file at its name: a FAILED run leaves no file, so whatever is
  // there now (e.g. the backup that run refused to overwrite) belongs to another record.
  if (record.backupState === 'SUCCESS' && record.fileName) {
    if (record.location === 'local') {
      await rm(join(record.backupPath, record.fileName), { force: true });
      if (record.logFileName) await rm(join(record.backupPath, record.logFileName), { force: true });
    } else {
      if (!docker) throw new UcpError(`Node ${record.nodeLocation} is not reachable; its files were not deleted.`, 'Retry when the cluster is reachable.');
      await removeHostFiles(docker, record);
    }
  }
  if (docker) await removeClusterRecord(docker, record.id);
  await local.remove(record.id);
}
