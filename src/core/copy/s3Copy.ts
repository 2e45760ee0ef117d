/**
 * A copy to S3 (AWS, or any S3 API with an endpoint: the tests use OpenStack Swift's s3api).
 * Streamed as a multipart upload (8 MiB parts, two in flight: memory stays bounded whatever the
 * size); the object exists only once the upload completes, and a failed or cancelled upload is
 * aborted, so no object that looks complete is ever left. The archive's SHA-256 travels as
 * x-amz-meta-sha256; the object is then read back and hashed. Credentials come from the SDK's
 * usual chain (AWS_* variables, ~/.aws/credentials, AWS_SHARED_CREDENTIALS_FILE), never argv.
 */
import type { Readable } from 'node:stream';
import { AbortMultipartUploadCommand, DeleteObjectCommand, GetObjectCommand, HeadBucketCommand, ListMultipartUploadsCommand, S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { UcpError } from '../errors';
import { hashing, hashStream } from './hashing';
import { ChecksumMismatchError, type Uploaded } from './errors';
import { copyLocation, type CopyDestination } from './destination';
import { staleAgeMs } from './staleParts';

export interface S3Options {
  endpoint?: string;
  region?: string;
  signal?: AbortSignal;
  /** Given by VS Code from its SecretStorage; else the SDK's chain (environment, profile). */
  credentials?: { accessKeyId: string; secretAccessKey: string };
}

export function s3Client(opts: S3Options): S3Client {
  // The SDK warns on every run under Node 20 about its releases of 2027; this one supports Node 20.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  return new S3Client({
    endpoint: opts.endpoint,
    // Stores other than AWS rarely have per-bucket DNS names.
    forcePathStyle: !!opts.endpoint,
    region: opts.region ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? 'us-east-1',
    credentials: opts.credentials,
    // The SDK's default CRC32 on every request is not understood by every S3 API; SHA-256 is ours.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
}

function explain(err: unknown, dest: Extract<CopyDestination, { kind: 's3' }>): unknown {
  const e = err as { name?: string; $metadata?: { httpStatusCode?: number }; message?: string };
  if (e?.name === 'CredentialsProviderError' || /Could not load credentials/i.test(e?.message ?? '')) return new UcpError('No S3 credentials were found.', 'Set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or a profile in ~/.aws/credentials, AWS_SHARED_CREDENTIALS_FILE); never on the command line.', 1);
  const code = e?.$metadata?.httpStatusCode;
  if (code === 403 || e?.name === 'InvalidAccessKeyId' || e?.name === 'SignatureDoesNotMatch') return new UcpError(`The S3 store refused the credentials for ${dest.url} (${e.name ?? code}).`, 'Check the access key and secret, and the bucket policy.', 1);
  if (code === 404 || e?.name === 'NoSuchBucket' || e?.name === 'NotFound') return new UcpError(`The bucket ${dest.bucket} does not exist at this S3 endpoint.`, 'Create it first, or check --s3-endpoint.', 1);
  if (/ECONNREFUSED|ENOTFOUND|EAI_AGAIN/.test(e?.message ?? '')) return new UcpError(`Cannot reach the S3 endpoint for ${dest.url}: ${e.message}`, 'Check --s3-endpoint and the network.', 1);
  return err;
}

export async function copyToS3(dest: Extract<CopyDestination, { kind: 's3' }>, name: string, source: Readable, expect: Parameters<typeof hashing>[0], opts: S3Options = {}): Promise<Uploaded> {
  const client = s3Client(opts);
  const key = copyLocation(dest, name).slice(`s3://${dest.bucket}/`.length);
  try {
    await client.send(new HeadBucketCommand({ Bucket: dest.bucket }));
    const staleRemoved = await abortStaleUploads(client, dest);
    const sent = hashing(expect);
    source.pipe(sent);
    source.once('error', (err) => sent.destroy(err));
    const upload = new Upload({
      client,
      params: { Bucket: dest.bucket, Key: key, Body: sent, Metadata: expect?.sha256 ? { sha256: expect.sha256 } : undefined, ContentType: 'application/octet-stream' },
      partSize: 8 * 1024 * 1024,
      queueSize: 2,
      leavePartsOnError: false,
    });
    const onAbort = () => void upload.abort();
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    try {
      await upload.done();
    } finally {
      opts.signal?.removeEventListener('abort', onAbort);
    }
    const { sha256, size } = sent.digest();
    const got = await client.send(new GetObjectCommand({ Bucket: dest.bucket, Key: key }));
    const back = await hashStream(got.Body as Readable, opts.signal);
    if (back.sha256 !== sha256 || back.size !== size) {
      await client.send(new DeleteObjectCommand({ Bucket: dest.bucket, Key: key })).catch(() => undefined);
      throw new ChecksumMismatchError(copyLocation(dest, name), sha256, back.sha256);
    }
    return { sha256, size, checkedBy: 'read back', staleRemoved };
  } catch (err) {
    throw explain(err, dest);
  } finally {
    client.destroy();
  }
}

/**
 * Multipart uploads under the prefix that an interrupted copy left open (never completed, so no
 * object, but their parts are stored): aborted once older than a running copy could be.
 */
async function abortStaleUploads(client: S3Client, dest: Extract<CopyDestination, { kind: 's3' }>): Promise<string[]> {
  const removed: string[] = [];
  // Only what our copies would write: an archive directly under this prefix, never another tool's upload.
  const under = copyLocation(dest, '').slice(`s3://${dest.bucket}/`.length);
  const ours = (key: string) => key.startsWith(under) && !key.slice(under.length).includes('/') && key.endsWith('.tar');
  const age = staleAgeMs();
  const uploads: { Key?: string; UploadId?: string; Initiated?: Date }[] = [];
  let markers: { KeyMarker?: string; UploadIdMarker?: string } = {};
  for (let page = 0; page < 20; page++) {
    const listed = await client.send(new ListMultipartUploadsCommand({ Bucket: dest.bucket, Prefix: under || undefined, ...markers })).catch(() => undefined);
    uploads.push(...(listed?.Uploads ?? []));
    if (!listed?.IsTruncated) break;
    markers = { KeyMarker: listed.NextKeyMarker, UploadIdMarker: listed.NextUploadIdMarker };
  }
  for (const u of uploads) {
    if (!u.Key || !u.UploadId || !u.Initiated || !ours(u.Key) || Date.now() - u.Initiated.getTime() <= age) continue;
    await client.send(new AbortMultipartUploadCommand({ Bucket: dest.bucket, Key: u.Key, UploadId: u.UploadId })).then(
      () => removed.push(`s3://${dest.bucket}/${u.Key} (unfinished upload)`),
      () => undefined,
    );
  }
  return removed;
}
