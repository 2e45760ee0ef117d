/**
 * Where an off-site copy goes: sftp://user@host[:port]/dir/ (any OpenSSH server; keys, agent,
 * known_hosts and ~/.ssh/config aliases as for the managers), s3://bucket/prefix/ (AWS or any
 * S3 API with --s3-endpoint), or a local folder (an NFS mount in real life).
 */
import { resolve } from 'node:path';
import { ConfigError } from '../errors';

export type CopyDestination =
  | { kind: 'sftp'; url: string; user?: string; host: string; port?: number; dir: string }
  | { kind: 's3'; url: string; bucket: string; prefix: string }
  | { kind: 'local'; url: string; dir: string };

const HINT = 'Give sftp://user@host[:port]/dir/, s3://bucket/prefix/ or a local folder.';

export function parseCopyDestination(text: string): CopyDestination {
  if (/^sftp:\/\//i.test(text)) {
    let u: URL;
    try {
      u = new URL(text);
    } catch {
      throw new ConfigError(`"${text}" is not a valid sftp:// address.`, HINT);
    }
    if (u.password) throw new ConfigError('An sftp:// address must not carry a password: it would be visible in ps and in logs.', 'Use a key (identityFile, ssh-agent or ~/.ssh/config), as for the managers.');
    const dir = decodeURIComponent(u.pathname).replace(/\/+$/, '') || '/';
    return { kind: 'sftp', url: `sftp://${u.username ? `${u.username}@` : ''}${u.host}${dir === '/' ? '/' : `${dir}/`}`, user: u.username ? decodeURIComponent(u.username) : undefined, host: u.hostname.replace(/^\[|\]$/g, ''), port: u.port ? Number(u.port) : undefined, dir };
  }
  if (/^s3:\/\//i.test(text)) {
    const m = /^s3:\/\/([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])(?:\/(.*))?$/i.exec(text);
    if (!m) throw new ConfigError(`"${text}" is not a valid s3:// address.`, HINT);
    const prefix = (m[2] ?? '').replace(/^\/+/, '');
    return { kind: 's3', url: `s3://${m[1]}/${prefix}`, bucket: m[1], prefix };
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(text)) throw new ConfigError(`Copies to "${text.split(':')[0]}://" are not supported.`, HINT);
  const dir = resolve(text);
  return { kind: 'local', url: dir, dir };
}

/** Where the copy of `name` is, as shown in the record and the tree. */
export function copyLocation(d: CopyDestination, name: string): string {
  if (d.kind === 'local') return `${d.dir}/${name}`;
  if (d.kind === 's3') return `s3://${d.bucket}/${d.prefix}${d.prefix && !d.prefix.endsWith('/') ? '/' : ''}${name}`;
  return `${d.url}${name}`;
}
