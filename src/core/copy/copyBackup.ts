/**
 * `copyBackup`: one backup's archive to one off-site destination, checked, then listed in its
 * record (`copies`: place, size, SHA-256, when copied and checked), in the swarm and in this
 * machine's history, so every admin sees where a backup also lives.
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import type { Readable } from 'node:stream';
import type Docker from 'dockerode';
import { UcpError } from '../errors';
import type { BackupRecord } from '../history/record';
import type { CopyRecord, RecordWithCopies } from './copyRecord';
import { getClusterRecord, updateClusterRecord } from '../history/clusterHistory';
import { LocalHistory } from '../history/localHistory';
import { openHostFile } from '../docker/hostFiles';
import { copyLocation, parseCopyDestination } from './destination';
import { copyToFolder } from './localCopy';
import { copyToSftp, type SftpOptions } from './sftpCopy';
import { copyToS3, type S3Options } from './s3Copy';

export type { CopyRecord, RecordWithCopies } from './copyRecord';

export interface CopyDeps {
  /** A manager's Docker: reads host-path archives and updates the swarm record. */
  docker?: Docker;
  local?: LocalHistory;
  sftp?: SftpOptions;
  s3?: Omit<S3Options, 'signal'>;
  signal?: AbortSignal;
}

async function openSource(src: { record?: BackupRecord; file?: string }, deps: CopyDeps): Promise<{ stream: Readable; name: string; what: string }> {
  if (src.file) {
    const st = await stat(src.file).catch(() => undefined);
    if (!st?.isFile()) throw new UcpError(`${src.file} is not a file.`, 'Give the path of a backup archive.', 2);
    return { stream: createReadStream(src.file), name: basename(src.file), what: src.file };
  }
  const r = src.record!;
  if (r.backupState !== 'SUCCESS') throw new UcpError(`Backup ${r.id} is ${r.backupState}: only a successful backup can be copied.`, undefined, 2);
  if (r.location === 'host') {
    if (!deps.docker) throw new UcpError(`Backup ${r.id} is on ${r.nodeLocation}, and no manager is reachable.`, 'Retry when the cluster is reachable.', 1);
    const { stream } = await openHostFile(deps.docker, r);
    return { stream, name: r.fileName, what: `${r.nodeLocation}:${r.backupPath}/${r.fileName}` };
  }
  const path = join(r.backupPath, r.fileName);
  const st = await stat(path).catch(() => undefined);
  if (!st?.isFile()) throw new UcpError(`Backup ${r.id} is a local file (${path}) that is not on this machine.`, 'Copy it from the machine that wrote it, or give --file.', 1);
  return { stream: createReadStream(path), name: r.fileName, what: path };
}

export async function copyBackup(src: { record?: BackupRecord; file?: string }, to: string, deps: CopyDeps = {}): Promise<CopyRecord & { staleRemoved?: string[] }> {
  const dest = parseCopyDestination(to);
  const copiedAt = new Date().toISOString();
  const { stream, name, what } = await openSource(src, deps);
  const expect = { sha256: src.record?.sha256, what };
  try {
    const up =
      dest.kind === 'local'
        ? await copyToFolder(dest.dir, name, stream, expect, deps.signal)
        : dest.kind === 'sftp'
          ? await copyToSftp(dest, name, stream, expect, { ...deps.sftp, signal: deps.signal })
          : await copyToS3(dest, name, stream, expect, { ...deps.s3, signal: deps.signal });
    const copy: CopyRecord = { to: dest.url, location: copyLocation(dest, name), size: up.size, sha256: up.sha256, copiedAt, checkedAt: new Date().toISOString(), checkedBy: up.checkedBy };
    if (src.record) await recordCopy(src.record, copy, deps);
    // What it tidied on the way is reported, not recorded: it is no part of this backup.
    return up.staleRemoved?.length ? { ...copy, staleRemoved: up.staleRemoved } : copy;
  } finally {
    stream.destroy();
  }
}

/** Adds (or replaces, for the same place) a copy in the backup's record, swarm and local. */
export async function recordCopy(record: BackupRecord, copy: CopyRecord, deps: CopyDeps): Promise<void> {
  const found = await editCopies(record, (copies) => [...copies.filter((c) => c.location !== copy.location), copy], deps);
  if (!found) throw new UcpError(`The copy is done, but backup ${record.id} has no record left to list it in.`, undefined, 1);
}

/**
 * Rewrites the copies listed in the backup's record, in the swarm and in this machine's
 * history (where each has it); false when neither has the record.
 */
export async function editCopies(record: BackupRecord, edit: (copies: CopyRecord[]) => CopyRecord[], deps: { docker?: Docker; local?: LocalHistory }): Promise<boolean> {
  const apply = (r: RecordWithCopies): RecordWithCopies => ({ ...r, copies: edit(r.copies ?? []) });
  const remote = deps.docker ? await getClusterRecord(deps.docker, record.id) : undefined;
  if (remote && deps.docker) await updateClusterRecord(deps.docker, apply(remote));
  const local = deps.local ?? new LocalHistory();
  const mine = (await local.list()).find((r) => r.id === record.id);
  if (mine) await local.put(apply(mine));
  return !!(remote || mine);
}
