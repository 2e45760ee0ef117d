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
import { readFileSync, readdirSync, rmSync, utimesSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { AbortMultipartUploadCommand, CreateBucketCommand, CreateMultipartUploadCommand, GetObjectCommand, HeadObjectCommand, ListMultipartUploadsCommand, ListObjectsV2Command, UploadPartCommand } from '@aws-sdk/client-s3';
import { runCli } from '../helpers/cli';
import { startSwiftS3, type SwiftS3 } from '../helpers/swift';
import { startSftpServer, type SftpServer } from '../helpers/sftpServer';
import { SessionPool } from '../../src/core/ssh/sessionPool';
import { createClusterRecord, getClusterRecord, removeClusterRecord } from '../../src/core/history/clusterHistory';
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

test('leftovers of an interrupted copy (a killed run cannot remove them) go with the next copy to the place once stale; a partial that may still be written stays', async () => {
  const file = join(dir, 'stale-src.tar');
  writeFileSync(file, randomBytes(4096));
  const twoDaysAgo = new Date(Date.now() - 2 * 86_400_000);
  const plant = (folder: string) => {
    mkdirSync(folder, { recursive: true });
    for (const n of ['.old.tar.partial-0a1b2c3d', '.new.tar.partial-4e5f6a7b', 'notes.txt']) writeFileSync(join(folder, n), 'x');
    utimesSync(join(folder, '.old.tar.partial-0a1b2c3d'), twoDaysAgo, twoDaysAgo);
    utimesSync(join(folder, 'notes.txt'), twoDaysAgo, twoDaysAgo);
  };
  const folder = join(dir, 'stale-local');
  plant(folder);
  const local = await copyBackup({ file }, folder);
  assert.deepEqual(local.staleRemoved, [join(folder, '.old.tar.partial-0a1b2c3d')]);
  assert.deepEqual(readdirSync(folder).sort(), ['.new.tar.partial-4e5f6a7b', 'notes.txt', 'stale-src.tar']);

  plant(join(sftp.dir, 'stale'));
  const remote = await copyBackup({ file }, sftpUrl('stale'), { sftp: sftpOpts() });
  assert.deepEqual(remote.staleRemoved, [`${sftpUrl('stale')}.old.tar.partial-0a1b2c3d`]);
  assert.deepEqual(readdirSync(join(sftp.dir, 'stale')).sort(), ['.new.tar.partial-4e5f6a7b', 'notes.txt', 'stale-src.tar']);

  // S3: an upload begun and never completed (its parts stored); its age can't be set, so the
  // stale age is lowered for this test (UCP_BACKUP_STALE_PARTIAL_MS) and the clock waited out.
  const c = s3Client({ endpoint: s3.endpoint });
  const abandon = async (key: string) => {
    const { UploadId } = await c.send(new CreateMultipartUploadCommand({ Bucket: 'backups', Key: key }));
    await c.send(new UploadPartCommand({ Bucket: 'backups', Key: key, UploadId, PartNumber: 1, Body: randomBytes(1024) }));
    return UploadId!;
  };
  const open = async () => ((await c.send(new ListMultipartUploadsCommand({ Bucket: 'backups', Prefix: 'stale/' }))).Uploads ?? []).map((u) => u.Key);
  const saved = process.env.UCP_BACKUP_STALE_PARTIAL_MS;
  try {
    await abandon('stale/old.tar');
    // Well past the lowered age: the store's start time and this clock may differ by a second.
    await new Promise((r) => setTimeout(r, 4500));
    const freshId = await abandon('stale/fresh.tar');
    process.env.UCP_BACKUP_STALE_PARTIAL_MS = '2000';
    const up = await copyBackup({ file }, 's3://backups/stale/', { s3: { endpoint: s3.endpoint } });
    const seen = (await c.send(new ListMultipartUploadsCommand({ Bucket: 'backups', Prefix: 'stale/' }))).Uploads?.map((u) => `${u.Key} ${u.Initiated?.toISOString()}`);
    assert.deepEqual(up.staleRemoved, ['s3://backups/stale/old.tar (unfinished upload)'], `open uploads now: ${seen?.join(', ')}; it is ${new Date().toISOString()}`);
    assert.deepEqual(await open(), ['stale/fresh.tar'], 'the upload that may still be running stays');
    await c.send(new AbortMultipartUploadCommand({ Bucket: 'backups', Key: 'stale/fresh.tar', UploadId: freshId }));
  } finally {
    if (saved === undefined) delete process.env.UCP_BACKUP_STALE_PARTIAL_MS;
    else process.env.UCP_BACKUP_STALE_PARTIAL_MS = saved;
    c.destroy();
  }
});

test('prune --copies-at: the copies at one place go by their own policy (the newest always stays), deleted there and dropped from their records; backups and other places untouched', async () => {
  const docker = await sshDocker(pool, 'manager2');
  const made: BackupRecord[] = [];
  for (const day of [3, 2, 1]) {
    const fileName = `${P}-cr-${day}.tar`;
    const data = randomBytes(2048);
    writeFileSync(join(dir, fileName), data);
    const at = new Date(Date.UTC(2026, 0, day, 2)).toISOString();
    const r = { id: randomUUID(), encrypted: false, fileName, logFileName: '', backupPath: dir, backupState: 'SUCCESS', nodeLocation: 'manager2', shortError: '', created_at: at, completed_at: at, location: 'local', cluster: 'demo', sha256: sha(data), size: data.length } as BackupRecord;
    await createClusterRecord(docker, r);
    ids.push(r.id);
    made.push(r);
  }
  mkdirSync(join(sftp.dir, 'cr'));
  for (const r of made) {
    await copyBackup({ record: r }, sftpUrl('cr'), { docker, sftp: sftpOpts() });
    await copyBackup({ record: r }, 's3://backups/cr/', { docker, s3: { endpoint: s3.endpoint } });
  }
  const sftpArgs = ['--ssh-identity', sftp.identityFile, '--known-hosts', sftp.knownHosts];
  const prune = (...args: string[]) => runCli(['prune', '--config', CONFIG, '--time-zone', 'UTC', ...args], { env });

  const dry = await prune('--copies-at', sftpUrl('cr'), '--keep-last', '1', ...sftpArgs, '--dry-run');
  assert.equal(dry.code, 0, dry.stderr);
  assert.match(dry.stdout, new RegExp(`^keep +${made[0].id} .*: last 1; newest copy at this place \\(never removed\\)$`, 'm'));
  for (const r of made.slice(1)) assert.match(dry.stdout, new RegExp(`^remove ${r.id} .*${r.fileName}: not the newest copy of any period the policy \\(last 1\\) keeps$`, 'm'));
  assert.equal(readdirSync(join(sftp.dir, 'cr')).length, 3, 'a dry run removes nothing');

  const done = await prune('--copies-at', sftpUrl('cr'), '--keep-last', '1', ...sftpArgs);
  assert.equal(done.code, 0, done.stderr);
  assert.deepEqual(readdirSync(join(sftp.dir, 'cr')), [made[0].fileName]);
  for (const r of made) {
    const now = (await getClusterRecord(docker, r.id)) as RecordWithCopies;
    assert.ok(now, 'the backup record stays');
    assert.deepEqual(now.copies?.map((c) => c.to).sort(), (r === made[0] ? [sftpUrl('cr'), 's3://backups/cr/'] : ['s3://backups/cr/']).sort());
  }

  // S3, a longer policy off-site: two stay, the oldest object goes.
  const s3Done = await prune('--copies-at', 's3://backups/cr/', '--keep-last', '2', '--s3-endpoint', s3.endpoint, '--json');
  assert.equal(s3Done.code, 0, s3Done.stderr);
  assert.deepEqual((JSON.parse(s3Done.stdout) as { removed: { copy: { location: string } }[] }).removed.map((x) => x.copy.location), [`s3://backups/cr/${made[2].fileName}`]);
  assert.deepEqual((await s3Leftovers()).keys.filter((k) => k.startsWith('cr/')).sort(), [`cr/${made[0].fileName}`, `cr/${made[1].fileName}`].sort());
  assert.ok(readdirSync(dir).includes(made[2].fileName), 'the backup itself is untouched');
});
