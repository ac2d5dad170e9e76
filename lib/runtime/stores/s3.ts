import { Readable } from 'node:stream';
import {
  S3Client, ListObjectsV2Command, HeadObjectCommand, GetObjectCommand, PutObjectCommand, DeleteObjectCommand, ListObjectVersionsCommand,
  type S3ClientConfig,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { ObjectNotFoundError, readAll, type HeadInfo, type ObjectInfo, type ObjectStore, type PutOptions } from './types';
import { base64ToHex } from '../util';

/**
 * An S3 client configured from the environment: the default credential chain (so web identity via
 * `AWS_ROLE_ARN` + `AWS_WEB_IDENTITY_TOKEN_FILE` works), `AWS_REGION`, and an endpoint override from
 * `AWS_ENDPOINT_URL_S3` / `AWS_ENDPOINT_URL` (path-style addressing then, or when
 * `CP_S3_FORCE_PATH_STYLE=true`).
 */
export function s3ClientFromEnv(env: NodeJS.ProcessEnv = process.env, extra: S3ClientConfig = {}): S3Client {
  const endpoint = env.AWS_ENDPOINT_URL_S3 || env.AWS_ENDPOINT_URL || undefined;
  const forcePathStyle = env.CP_S3_FORCE_PATH_STYLE ? env.CP_S3_FORCE_PATH_STYLE === 'true' : Boolean(endpoint);
  return new S3Client({ region: env.AWS_REGION || env.AWS_DEFAULT_REGION || 'us-east-1', endpoint, forcePathStyle, ...extra });
}

function isNotFound(err: unknown): boolean {
  const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
  return e?.name === 'NotFound' || e?.name === 'NoSuchKey' || e?.$metadata?.httpStatusCode === 404;
}

/**
 * Whether an S3 `ChecksumSHA256` is a full-object SHA-256. Multipart uploads get a COMPOSITE
 * checksum (a hash of the parts' hashes, shown with a `-<parts>` suffix): not the object's SHA-256.
 */
export function fullObjectSha256(checksum: string | undefined, checksumType: string | undefined): string | undefined {
  if (!checksum) return undefined;
  if (checksumType && checksumType !== 'FULL_OBJECT') return undefined;
  if (/-\d+$/.test(checksum)) return undefined;
  const hex = base64ToHex(checksum);
  return hex.length === 64 ? hex : undefined;
}

export class S3Store implements ObjectStore {
  readonly url: string;
  constructor(readonly bucket: string, readonly client: S3Client) {
    this.url = `s3://${bucket}`;
  }

  async *list(prefix: string): AsyncIterable<ObjectInfo> {
    let token: string | undefined;
    do {
      const page = await this.client.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: prefix, ContinuationToken: token }));
      for (const o of page.Contents ?? []) if (o.Key !== undefined) yield { key: o.Key, size: Number(o.Size ?? 0), modified: o.LastModified };
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
  }

  async head(key: string): Promise<HeadInfo | undefined> {
    try {
      const h = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key, ChecksumMode: 'ENABLED' }));
      return {
        size: Number(h.ContentLength ?? 0),
        sha256: fullObjectSha256(h.ChecksumSHA256, h.ChecksumType),
        metadata: h.Metadata ?? {},
        etag: h.ETag,
        modified: h.LastModified,
        retainUntil: h.ObjectLockRetainUntilDate,
      };
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  async get(key: string): Promise<Readable> {
    try {
      const r = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
      return r.Body as Readable;
    } catch (err) {
      if (isNotFound(err)) throw new ObjectNotFoundError(this.url, key);
      throw err;
    }
  }

  async getBytes(key: string): Promise<Buffer> {
    return readAll(await this.get(key));
  }

  async put(key: string, body: Buffer | string | Readable, options: PutOptions = {}): Promise<void> {
    if (typeof body === 'string' || Buffer.isBuffer(body)) {
      await this.client.send(new PutObjectCommand({
        Bucket: this.bucket, Key: key, Body: body, ContentType: options.contentType, Metadata: options.metadata as Record<string, string> | undefined,
        ChecksumAlgorithm: 'SHA256',
      }));
      return;
    }
    const upload = new Upload({
      client: this.client,
      params: { Bucket: this.bucket, Key: key, Body: body, ContentType: options.contentType, Metadata: options.metadata as Record<string, string> | undefined, ChecksumAlgorithm: 'SHA256' },
      queueSize: 4,
      partSize: 16 * 1024 * 1024,
    });
    await upload.done();
  }

  /** Deletes every version of `key` (a plain DeleteObject would only add a delete marker); Object Lock refuses locked versions. */
  async delete(key: string): Promise<void> {
    let keyMarker: string | undefined;
    let versionMarker: string | undefined;
    const versions: string[] = [];
    do {
      const page = await this.client.send(new ListObjectVersionsCommand({ Bucket: this.bucket, Prefix: key, KeyMarker: keyMarker, VersionIdMarker: versionMarker }));
      for (const v of [...(page.Versions ?? []), ...(page.DeleteMarkers ?? [])]) if (v.Key === key && v.VersionId) versions.push(v.VersionId);
      keyMarker = page.IsTruncated ? page.NextKeyMarker : undefined;
      versionMarker = page.IsTruncated ? page.NextVersionIdMarker : undefined;
    } while (keyMarker);
    if (!versions.length) {
      await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: key }));
      return;
    }
    for (const v of versions) await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: key, VersionId: v }));
  }

  locationOf(key: string): string {
    return `${this.url}/${key}`;
  }
}
