/**
 * Reload of an `s3Bucket` dataset: every object of the night's index goes back into the target
 * bucket under its original key, with its Content-Type and user metadata, and a SHA-256 checksum
 * on every upload (S3 refuses an upload whose bytes do not match it). Objects already in the
 * target with the same size and full-object SHA-256 are skipped, so a re-run continues where a
 * crashed one stopped and never duplicates or rewrites.
 */
import { HeadObjectCommand, ListObjectsV2Command, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { RuntimeError } from '../errors';
import { compareUtf8 } from '../format/keys';
import type { IndexEntry } from '../format/types';
import { fullObjectSha256 } from '../stores/s3';
import { readAll, type ObjectStore } from '../stores/types';
import { HashingPassThrough, hexToBase64, sha256Hex } from '../util';
import { forEachLimit } from '../format/merge';
import { PhaseProgress } from './progress';

/** Objects up to this size are read whole, hashed, then put with their SHA-256 (S3 checks it). */
export const SINGLE_PUT_MAX_BYTES = 64 * 1024 * 1024;

export interface RecordingsReloadOptions {
  readonly source: ObjectStore;
  readonly entries: AsyncIterable<IndexEntry>;
  readonly s3: S3Client;
  readonly bucket: string;
  readonly prefix: string;
  readonly total?: { objects: number; bytes: number };
  /** @default 16 */
  readonly concurrency?: number;
  /** Called after each object is in place (tests use it to crash a reload halfway). */
  readonly afterObject?: (key: string) => void;
}

export interface RecordingsReloadResult {
  readonly objects: number;
  readonly uploaded: number;
  readonly skipped: number;
  readonly bytes: number;
  readonly seconds: number;
}

/** Whether the target prefix holds any object (one LIST request). */
export async function prefixHasObjects(s3: S3Client, bucket: string, prefix: string): Promise<boolean> {
  const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, MaxKeys: 1 }));
  return (page.KeyCount ?? page.Contents?.length ?? 0) > 0;
}

async function targetHas(s3: S3Client, bucket: string, key: string, entry: IndexEntry): Promise<boolean> {
  try {
    const h = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key, ChecksumMode: 'ENABLED' }));
    return Number(h.ContentLength) === entry.size && fullObjectSha256(h.ChecksumSHA256, h.ChecksumType) === entry.sha256;
  } catch (err) {
    const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
    if (e.name === 'NotFound' || e.$metadata?.httpStatusCode === 404) return false;
    throw err;
  }
}

async function uploadOne(opts: RecordingsReloadOptions, entry: IndexEntry, key: string, signal: AbortSignal): Promise<void> {
  const common = { Bucket: opts.bucket, Key: key, ContentType: entry.contentType ?? undefined, Metadata: { ...entry.metadata } };
  const body = await opts.source.get(entry.blob);
  if (entry.size <= SINGLE_PUT_MAX_BYTES) {
    const bytes = await readAll(body);
    const sha = sha256Hex(bytes);
    if (bytes.length !== entry.size || sha !== entry.sha256) {
      throw new RuntimeError(`reload: ${opts.source.url}/${entry.blob} (key ${key}) has ${bytes.length} bytes with sha256 ${sha}; the index says ${entry.size} bytes, ${entry.sha256}`);
    }
    await opts.s3.send(new PutObjectCommand({ ...common, Body: bytes, ChecksumAlgorithm: 'SHA256', ChecksumSHA256: hexToBase64(sha) }), { abortSignal: signal });
    return;
  }
  // Larger objects stream through a multipart upload (per-part SHA-256 checked by S3); the whole
  // object's SHA-256 is checked here as it streams, and a mismatch aborts the upload.
  const hashing = new HashingPassThrough();
  body.pipe(hashing);
  const upload = new Upload({ client: opts.s3, params: { ...common, Body: hashing, ChecksumAlgorithm: 'SHA256' }, queueSize: 4, partSize: 64 * 1024 * 1024 });
  signal.addEventListener('abort', () => { void upload.abort(); }, { once: true });
  await upload.done();
  if (hashing.sha256 !== entry.sha256 || hashing.size !== entry.size) {
    throw new RuntimeError(`reload: ${entry.blob} streamed ${hashing.size} bytes with sha256 ${hashing.sha256}; the index says ${entry.size} bytes, ${entry.sha256} (the target object ${key} must be deleted by hand)`);
  }
}

export async function reloadRecordings(opts: RecordingsReloadOptions): Promise<RecordingsReloadResult> {
  const bar = new PhaseProgress(`recordings → s3://${opts.bucket}/${opts.prefix}`, opts.total ?? {});
  let uploaded = 0;
  let skipped = 0;
  await forEachLimit(opts.entries, opts.concurrency ?? 16, async (entry, signal) => {
    const key = `${opts.prefix}${entry.key}`;
    if (await targetHas(opts.s3, opts.bucket, key, entry)) {
      skipped++;
    } else {
      await uploadOne(opts, entry, key, signal);
      uploaded++;
    }
    bar.add(1, entry.size);
    opts.afterObject?.(key);
  });
  const c = bar.counts;
  return { objects: uploaded + skipped, uploaded, skipped, bytes: c.bytes, seconds: c.seconds };
}

async function* listTarget(s3: S3Client, bucket: string, prefix: string): AsyncGenerator<{ key: string; size: number }> {
  let token: string | undefined;
  do {
    const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }));
    for (const o of page.Contents ?? []) if (o.Key !== undefined) yield { key: o.Key, size: Number(o.Size ?? 0) };
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
}

/**
 * Proves the target holds exactly the night's objects: each key with the index's size and SHA-256
 * (S3's full-object checksum; objects loaded by multipart have none and are checked by size), and
 * no other key under the prefix. The index and S3's listing are both in UTF-8 byte order, so one
 * merge pass finds missing and extra keys without holding either list. Returns the problems.
 */
export async function proveRecordings(s3: S3Client, bucket: string, prefix: string, entries: AsyncIterable<IndexEntry>): Promise<{ objects: number; problems: string[] }> {
  const problems: string[] = [];
  let objects = 0;
  const listing = listTarget(s3, bucket, prefix);
  let cur = await listing.next();
  async function* present(): AsyncGenerator<{ entry: IndexEntry; key: string }> {
    for await (const entry of entries) {
      objects++;
      const key = `${prefix}${entry.key}`;
      while (!cur.done && compareUtf8(cur.value.key, key) < 0) {
        problems.push(`${cur.value.key}: in the target but not in the night`);
        cur = await listing.next();
      }
      if (cur.done || cur.value.key !== key) {
        problems.push(`${key}: missing`);
        continue;
      }
      cur = await listing.next();
      yield { entry, key };
    }
    for (; !cur.done; cur = await listing.next()) problems.push(`${cur.value.key}: in the target but not in the night`);
  }
  await forEachLimit(present(), 16, async ({ entry, key }) => {
    const h = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key, ChecksumMode: 'ENABLED' }));
    const sha = fullObjectSha256(h.ChecksumSHA256, h.ChecksumType);
    if (Number(h.ContentLength) !== entry.size) problems.push(`${key}: ${h.ContentLength} bytes, the night has ${entry.size}`);
    else if (sha !== undefined && sha !== entry.sha256) problems.push(`${key}: sha256 ${sha}, the night has ${entry.sha256}`);
    else if (sha === undefined && entry.size <= SINGLE_PUT_MAX_BYTES) problems.push(`${key}: has no full-object SHA-256 checksum (not written by reload)`);
  });
  problems.sort();
  return { objects, problems };
}
