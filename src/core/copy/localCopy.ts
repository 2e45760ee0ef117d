/** A copy into a local folder (an NFS mount): temp name, fsync, read back, then rename. */
import { createReadStream, createWriteStream } from 'node:fs';
import { open, readdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { pipeline } from 'node:stream/promises';
import type { Readable } from 'node:stream';
import { UcpError } from '../errors';
import { hashing, hashStream } from './hashing';
import { ChecksumMismatchError, type Uploaded } from './errors';
import { isStalePartial } from './staleParts';

export async function copyToFolder(dir: string, name: string, source: Readable, expect: Parameters<typeof hashing>[0], signal?: AbortSignal): Promise<Uploaded> {
  const st = await stat(dir).catch(() => undefined);
  if (!st?.isDirectory()) throw new UcpError(`The copy destination ${dir} is not a folder.`, 'Create it (and mount it) first.', 1);
  const staleRemoved = await removeStale(dir);
  const tmp = join(dir, `.${name}.partial-${randomBytes(4).toString('hex')}`);
  try {
    const sent = hashing(expect);
    await pipeline(source, sent, createWriteStream(tmp, { mode: 0o600 }), { signal });
    const fh = await open(tmp, 'r');
    await fh.sync().finally(() => fh.close());
    const back = await hashStream(createReadStream(tmp), signal);
    const { sha256, size } = sent.digest();
    if (back.sha256 !== sha256 || back.size !== size) throw new ChecksumMismatchError(join(dir, name), sha256, back.sha256);
    await rename(tmp, join(dir, name));
    return { sha256, size, checkedBy: 'read back', staleRemoved };
  } finally {
    await rm(tmp, { force: true });
  }
}

/** Partials of interrupted copies in `dir` (any archive's), older than a running copy could be. */
async function removeStale(dir: string): Promise<string[]> {
  const removed: string[] = [];
  for (const n of await readdir(dir).catch(() => [] as string[])) {
    if (!n.includes('.partial-')) continue;
    const st = await stat(join(dir, n)).catch(() => undefined);
    // A leftover this user may not remove (another's, on a shared mount) never fails the copy.
    if (st?.isFile() && isStalePartial(n, st.mtimeMs)) await rm(join(dir, n), { force: true }).then(() => removed.push(join(dir, n)), () => undefined);
  }
  return removed;
}
