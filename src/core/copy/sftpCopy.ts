/**
 * A copy to an SFTP server (any OpenSSH sftp-server). The connection is the managers' own
 * NodeSession: the host key is checked against known_hosts (unknown keys refused unless the
 * admin accepts them, changed keys always refused), keys/agent/~/.ssh/config as for a node.
 * Written under a temp name, read back and hashed, then renamed over the final name
 * (posix-rename@openssh.com, atomic on the server); a failure removes the temp file.
 */
import { randomBytes } from 'node:crypto';
import { pipeline } from 'node:stream/promises';
import type { Readable } from 'node:stream';
import type { SFTPWrapper } from 'ssh2';
import { UcpError } from '../errors';
import type { NodeConfig } from '../config';
import { NodeSession, type SessionOptions } from '../ssh/nodeSession';
import { hashing, hashStream } from './hashing';
import { ChecksumMismatchError, type Uploaded } from './errors';
import { isStalePartial } from './staleParts';
import type { CopyDestination } from './destination';

export interface SftpOptions extends SessionOptions {
  identityFile?: string;
  knownHostsFile?: string;
}

/** An ssh2 SFTP call as a promise. */
export const call = <T>(fn: (cb: (err: Error | null | undefined, v?: T) => void) => void) =>
  new Promise<T>((resolve, reject) => fn((err, v) => (err ? reject(err) : resolve(v as T))));

/** The SSH session to an sftp:// destination, checked and authenticated as a manager's is. */
export function sftpSession(dest: Extract<CopyDestination, { kind: 'sftp' }>, opts: SftpOptions = {}): NodeSession {
  const node: NodeConfig = { name: dest.host, host: dest.host, port: dest.port, username: dest.user, identityFile: opts.identityFile, knownHostsFile: opts.knownHostsFile };
  return new NodeSession(node, opts);
}

export async function copyToSftp(dest: Extract<CopyDestination, { kind: 'sftp' }>, name: string, source: Readable, expect: Parameters<typeof hashing>[0], opts: SftpOptions & { signal?: AbortSignal } = {}): Promise<Uploaded> {
  const session = sftpSession(dest, opts);
  const final = `${dest.dir.replace(/\/+$/, '')}/${name}`;
  const tmp = `${dest.dir.replace(/\/+$/, '')}/.${name}.partial-${randomBytes(4).toString('hex')}`;
  let sftp: SFTPWrapper | undefined;
  try {
    const client = await session.connect();
    sftp = await call<SFTPWrapper>((cb) => client.sftp(cb));
    const s = sftp;
    const st = await call<{ isDirectory(): boolean }>((cb) => s.stat(dest.dir, cb)).catch(() => undefined);
    if (!st?.isDirectory()) throw new UcpError(`${dest.dir} is not a folder on ${dest.host}.`, `Create it there first (ssh ${dest.user ? `${dest.user}@` : ''}${dest.host} mkdir -p ${dest.dir}).`, 1);
    const staleRemoved: string[] = [];
    const entries = await call<{ filename: string; attrs: { mtime: number; isFile(): boolean } }[]>((cb) => s.readdir(dest.dir, cb)).catch(() => []);
    for (const e of entries) {
      if (!e.attrs.isFile() || !isStalePartial(e.filename, e.attrs.mtime * 1000)) continue;
      const path = `${dest.dir.replace(/\/+$/, '')}/${e.filename}`;
      await call((cb) => s.unlink(path, cb)).then(() => staleRemoved.push(`${dest.url}${e.filename}`), () => undefined);
    }
    const sent = hashing(expect);
    await pipeline(source, sent, s.createWriteStream(tmp, { mode: 0o600 }), { signal: opts.signal });
    const back = await hashStream(s.createReadStream(tmp), opts.signal);
    const { sha256, size } = sent.digest();
    if (back.sha256 !== sha256 || back.size !== size) throw new ChecksumMismatchError(`${dest.url}${name}`, sha256, back.sha256);
    // posix-rename replaces an existing file atomically; plain SFTP rename refuses to.
    await call((cb) => s.ext_openssh_rename(tmp, final, cb));
    return { sha256, size, checkedBy: 'read back', staleRemoved };
  } catch (err) {
    const s = sftp;
    if (s) await call((cb) => s.unlink(tmp, cb)).catch(() => undefined);
    throw err;
  } finally {
    session.close();
  }
}
