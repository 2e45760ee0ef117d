/**
 * Off-site copies to real servers: OpenSSH's sftp-server (an sshd of this test's own on
 * 127.0.0.1, its host key pinned) and an S3 API from OpenStack Swift (Debian's packages, s3api).
 * A real backup with --copy-to both is copied, read back, and listed in its swarm record; a
 * damaged archive never becomes a copy (no object, no multipart upload, no temp file left);
 * unknown and changed host keys are refused; bad S3 credentials get a sentence.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { readFileSync, readdirSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { CreateBucketCommand, GetObjectCommand, HeadObjectCommand, ListMultipartUploadsCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { runCli } from '../helpers/cli';
import { startSwiftS3, type SwiftS3 } from '../helpers/swift';
import { startSftpServer, type SftpServer } from '../helpers/sftpServer';
import { SessionPool } from '../../src/core/ssh/sessionPool';
import { getClusterRecord, removeClusterRecord } from '../../src/core/history/clusterHistory';
import { copyBackup, type RecordWithCopies } from '../../src/core/copy/copyBackup';
import { s3Client } from '../../src/core/copy/s3Copy';
import type { BackupRecord } from '../../src/core/history/record';
import { CONFIG, workDir, sshDocker, waitForNoLock } from './backupKit';

const pool = new SessionPool();
const { dir } = workDir('ucp-backup-copy-');
const P = `copy-${randomUUID().slice(0, 8)}`;
let s3: SwiftS3;
let sftp: SftpServer;
let env: Record<string, string>;
const ids: string[] = [];
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

before(async () => {
  [s3, sftp] = await Promise.all([startSwiftS3(), startSftpServer(), waitForNoLock(await sshDocker(pool, 'manager2'))]) as [SwiftS3, SftpServer, void];
  env = { UCP_BACKUP_STATE_DIR: join(dir, 'state'), ...s3.env };
  Object.assign(process.env, s3.env);
  const c = s3Client({ endpoint: s3.endpoint });
  await c.send(new CreateBucketCommand({ Bucket: 'backups' }));
  c.destroy();
  mkdirSync(join(sftp.dir, 'up'));
});

after(async () => {
  const docker = await sshDocker(pool, 'manager2');
  for (const id of ids) await removeClusterRecord(docker, id);
  pool.closeAll();
  await Promise.all([s3?.stop(), sftp?.stop()]);
  rmSync(dir, { recursive: true, force: true });
});

async function s3Object(key: string): Promise<{ body: Buffer; meta: Record<string, string> } | undefined> {
  const c = s3Client({ endpoint: s3.endpoint });
  try {
    const got = await c.send(new GetObjectCommand({ Bucket: 'backups', Key: key }));
    const chunks: Buffer[] = [];
    for await (const ch of got.Body as Readable) chunks.push(ch as Buffer);
    return { body: Buffer.concat(chunks), meta: got.Metadata ?? {} };
  } catch (err) {
    if ((err as { name?: string }).name === 'NoSuchKey') return undefined;
    throw err;
  } finally {
    c.destroy();
  }
}

async function s3Leftovers(): Promise<{ uploads: number; keys: string[] }> {
  const c = s3Client({ endpoint: s3.endpoint });
  try {
    const up = await c.send(new ListMultipartUploadsCommand({ Bucket: 'backups' }));
    const objs = await c.send(new ListObjectsV2Command({ Bucket: 'backups' }));
    return { uploads: up.Uploads?.length ?? 0, keys: (objs.Contents ?? []).map((o) => o.Key!) };
  } finally {
    c.destroy();
  }
}

const sftpUrl = (sub: string) => `sftp://root@127.0.0.1:${sftp.port}${sftp.dir}/${sub}/`;
const sftpOpts = () => ({ identityFile: sftp.identityFile, knownHostsFile: sftp.knownHosts });

test('backup --copy-to s3:// and sftp://: both copies read back equal to the archive and are listed in its swarm record', async () => {
  const file = join(dir, `${P}.tar`);
  const r = await runCli(['backup', '--config', CONFIG, '--node', 'manager2', '--engine', 'builtin', '--no-passphrase', '--file', file, '--json',
    '--copy-to', 's3://backups/ucp/', '--s3-endpoint', s3.endpoint, '--copy-to', sftpUrl('up'), '--ssh-identity', sftp.identityFile, '--known-hosts', sftp.knownHosts], { env });
  assert.equal(r.code, 0, r.stderr);
  const rec = JSON.parse(r.stdout) as RecordWithCopies;
  ids.push(rec.id);
  const archive = readFileSync(file);
  assert.equal(rec.sha256, sha(archive));
  const object = await s3Object(`ucp/${P}.tar`);
  assert.equal(object && sha(object.body), rec.sha256, 'the S3 object is the archive');
  assert.equal(object!.meta.sha256, rec.sha256, 'and carries its checksum');
  assert.equal(sha(readFileSync(join(sftp.dir, 'up', `${P}.tar`))), rec.sha256, 'the SFTP file is the archive');
  assert.deepEqual(readdirSync(join(sftp.dir, 'up')), [`${P}.tar`], 'no temp file left');
  const stored = (await getClusterRecord(await sshDocker(pool, 'manager2'), rec.id)) as RecordWithCopies;
  assert.deepEqual(stored.copies?.map((c) => [c.location, c.size, c.sha256, c.checkedBy]), [
    [`s3://backups/ucp/${P}.tar`, archive.length, rec.sha256, 'read back'],
    [`${sftpUrl('up')}${P}.tar`, archive.length, rec.sha256, 'read back'],
  ]);
  assert.deepEqual((await s3Leftovers()).uploads, 0);

  // ucp-backup copy --id adds a third place, a folder, to the same record.
  mkdirSync(join(dir, 'nfs'));
  const c = await runCli(['copy', '--config', CONFIG, '--id', rec.id, '--to', join(dir, 'nfs')], { env });
  assert.equal(c.code, 0, c.stderr);
  assert.match(c.stdout, new RegExp(`^Copied backup ${rec.id} to ${join(dir, 'nfs', P)}\\.tar \\(\\d+ bytes, sha256 ${rec.sha256}, read back and checked\\)\\.$`, 'm'));
  const again = (await getClusterRecord(await sshDocker(pool, 'manager2'), rec.id)) as RecordWithCopies;
  assert.equal(again.copies?.length, 3);
});

test('a damaged archive never becomes a copy: no object, no multipart upload, no temp file left', async () => {
  // 9 MiB: two parts of a real multipart upload.
  const file = join(dir, `${P}-damaged.tar`);
  const data = randomBytes(9 * 1024 * 1024);
  writeFileSync(file, data);
  const record = { id: randomUUID(), backupState: 'SUCCESS', fileName: `${P}-damaged.tar`, backupPath: dir, location: 'local', sha256: sha(Buffer.from('what was written')), size: data.length } as BackupRecord;
  await assert.rejects(copyBackup({ record, file }, 's3://backups/bad/', { s3: { endpoint: s3.endpoint } }), /is not the backup its record describes .*Nothing was kept at the destination/);
  const left = await s3Leftovers();
  assert.equal(left.uploads, 0, 'the multipart upload was aborted');
  assert.ok(!left.keys.some((k) => k.startsWith('bad/')), 'no object');
  mkdirSync(join(sftp.dir, 'bad'));
  await assert.rejects(copyBackup({ record, file }, sftpUrl('bad'), { sftp: sftpOpts() }), /is not the backup its record describes/);
  assert.deepEqual(readdirSync(join(sftp.dir, 'bad')), []);
  // The same file with its true checksum goes through as a multipart upload.
  const ok = await copyBackup({ record: { ...record, sha256: sha(data) }, file }, 's3://backups/good/', { s3: { endpoint: s3.endpoint } }).catch((e: Error) => e);
  // No record of it exists to list the copy in: said so, after the copy was made and checked.
  assert.match(String(ok), /The copy is done, but backup .* has no record left to list it in/);
  const c = s3Client({ endpoint: s3.endpoint });
  const head = await c.send(new HeadObjectCommand({ Bucket: 'backups', Key: `good/${P}-damaged.tar` }));
  c.destroy();
  assert.equal(head.ContentLength, data.length);
  assert.match(head.ETag ?? '', /-2"$/, 'Swift assembled it from 2 parts');
});

test('SFTP host keys are pinned: an unknown key and a changed key are refused', async () => {
  const file = join(dir, `${P}-k.tar`);
  writeFileSync(file, 'x');
  const empty = join(dir, 'empty_known_hosts');
  writeFileSync(empty, '');
  await assert.rejects(copyBackup({ file }, sftpUrl('up'), { sftp: { identityFile: sftp.identityFile, knownHostsFile: empty } }), /can't be established: .*not in .*empty_known_hosts/);
  await assert.rejects(copyBackup({ file }, sftpUrl('up'), { sftp: { identityFile: sftp.identityFile, knownHostsFile: sftp.wrongKnownHosts } }), /has changed .*refusing to connect/);
  assert.ok(!readdirSync(join(sftp.dir, 'up')).includes(`${P}-k.tar`));
});

test('copy with S3 credentials the store refuses says so', async () => {
  const creds = join(dir, 'bad-creds');
  writeFileSync(creds, '[default]\naws_access_key_id = test:tester\naws_secret_access_key = wrong\n', { mode: 0o600 });
  const file = join(dir, `${P}-c.tar`);
  writeFileSync(file, 'x');
  const r = await runCli(['copy', '--config', CONFIG, '--file', file, '--to', 's3://backups/x/', '--s3-endpoint', s3.endpoint], { env: { ...env, AWS_SHARED_CREDENTIALS_FILE: creds } });
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, /^ucp-backup: The S3 store refused the credentials for s3:\/\/backups\/x\/ .*Check the access key and secret/m);
  assert.ok(!r.stderr.includes('wrong'), 'the secret is not repeated');
});
