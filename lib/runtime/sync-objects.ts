/**
 * Incremental copy of an `s3Bucket` dataset's source objects into `objects/<dataset>/<source key>`
 * of the export bucket. An object is skipped when the export's copy has the same size and is strictly
 * newer than the source object (both from the listings, no extra request; LastModified has 1-second
 * resolution, so the same second does not count), or otherwise when the copy's recorded source ETag (`x-amz-meta-cp-source-etag`, one HeadObject) still matches;
 * otherwise it is copied. Copies are server-side `CopyObject` with `ChecksumAlgorithm: SHA256`, so S3 stores a
 * full-object SHA-256 that the manifest builder reuses instead of re-reading the object.
 */
import { CopyObjectCommand, HeadObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { naming } from '../core';
import { RuntimeError } from './errors';
import { mapLimit } from './util';

export const SOURCE_ETAG_METADATA = 'cp-source-etag';
/** CopyObject's limit; larger objects need a multipart copy (not implemented, reported). */
export const MAX_COPY_OBJECT_BYTES = 5 * 1024 ** 3;

export interface SyncObjectsOptions {
  readonly s3: S3Client;
  readonly sourceBucket: string;
  /** @default '' (the whole bucket) */
  readonly sourcePrefix?: string;
  readonly exportBucket: string;
  readonly dataset: string;
  /** @default 16 */
  readonly concurrency?: number;
  /** S3 client for the source, when it differs (another account/region). @default s3 */
  readonly sourceS3?: S3Client;
  /**
   * Send `x-amz-sdk-checksum-algorithm` on CopyObject: moto refuses a copy into an Object Lock
   * bucket without it (real S3 does not ask). Set for emulators (the CLI sets it when
   * `AWS_ENDPOINT_URL_S3` is set). @default false
   */
  readonly emulatorChecksumHeader?: boolean;
}

export interface SyncObjectsResult {
  readonly examined: number;
  readonly copied: number;
  readonly skipped: number;
  readonly bytesCopied: number;
  readonly copiedKeys: readonly string[];
}

interface Listed { key: string; size: number; etag: string; modified: number }

async function listAll(s3: S3Client, bucket: string, prefix: string): Promise<Listed[]> {
  const out: Listed[] = [];
  let token: string | undefined;
  do {
    const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }));
    for (const o of page.Contents ?? []) if (o.Key && !o.Key.endsWith('/')) out.push({ key: o.Key, size: Number(o.Size ?? 0), etag: o.ETag ?? '', modified: o.LastModified ? o.LastModified.getTime() : 0 });
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return out;
}

function copySource(bucket: string, key: string): string {
  return `${bucket}/${key.split('/').map(encodeURIComponent).join('/')}`;
}

export async function syncObjects(opts: SyncObjectsOptions): Promise<SyncObjectsResult> {
  const src = opts.sourceS3 ?? opts.s3;
  const destPrefix = naming.datasetObjectsPrefix(opts.dataset);
  const [source, dest] = await Promise.all([
    listAll(src, opts.sourceBucket, opts.sourcePrefix ?? ''),
    listAll(opts.s3, opts.exportBucket, destPrefix),
  ]);
  const destByKey = new Map(dest.map((d) => [d.key, d]));
  const copiedKeys: string[] = [];
  let bytesCopied = 0;
  let skipped = 0;
  await mapLimit(source, opts.concurrency ?? 16, async (o) => {
    const destKey = `${destPrefix}${o.key}`;
    const existing = destByKey.get(destKey);
    if (existing && existing.size === o.size && existing.modified > o.modified && o.modified > 0) {
      skipped++;
      return;
    }
    if (existing && existing.size === o.size) {
      const head = await opts.s3.send(new HeadObjectCommand({ Bucket: opts.exportBucket, Key: destKey }));
      if (head.Metadata?.[SOURCE_ETAG_METADATA] === o.etag) {
        skipped++;
        return;
      }
    }
    if (o.size > MAX_COPY_OBJECT_BYTES) throw new RuntimeError(`s3://${opts.sourceBucket}/${o.key} is ${o.size} bytes; objects over 5 GiB need a multipart copy, which sync-objects does not do yet`);
    const copy = new CopyObjectCommand({
      Bucket: opts.exportBucket,
      Key: destKey,
      CopySource: copySource(opts.sourceBucket, o.key),
      CopySourceIfMatch: o.etag || undefined,
      MetadataDirective: 'REPLACE',
      Metadata: { [SOURCE_ETAG_METADATA]: o.etag },
      ChecksumAlgorithm: 'SHA256',
    });
    if (opts.emulatorChecksumHeader) {
      copy.middlewareStack.add((next) => async (args) => {
        const req = args.request as { headers?: Record<string, string> };
        if (req.headers) req.headers['x-amz-sdk-checksum-algorithm'] = 'SHA256';
        return next(args);
      }, { step: 'build', name: 'cpEmulatorChecksumHeader' });
    }
    await opts.s3.send(copy);
    copiedKeys.push(destKey);
    bytesCopied += o.size;
  });
  copiedKeys.sort();
  return { examined: source.length, copied: copiedKeys.length, skipped, bytesCopied, copiedKeys };
}
