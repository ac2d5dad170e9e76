/**
 * The nightly step for an `s3Bucket` dataset (format v2, runs on Fargate): one streaming pass over
 * the source listing, merged with the previous night's index. Unchanged objects (same ETag and size
 * as the previous entry) cost nothing more. A new or changed object is read once to take its SHA-256
 * (or its full-object `ChecksumSHA256`, when the source has one), and copied server-side into
 * `blobs/sha256/<2 hex>/<sha256>` unless that blob exists: content is never overwritten, and
 * identical content is stored once. Copies keep the source's Content-Type and user metadata
 * (MetadataDirective COPY), and the index records them too. Objects over 5 GiB are copied with
 * multipart `UploadPartCopy`. Every key passes unchanged (it is data in the index, never a path).
 *
 * The copy is pinned to the bytes that were hashed: `versionId` when the source is versioned, and
 * `CopySourceIfMatch` on the ETag always; S3's own SHA-256 of a single-part copy is compared too.
 *
 * With a seed bucket (`seedBucket`, `CP_SEED_BUCKET`: the initial seed's S3 Batch Operations copies at
 * `copies/<dataset>/<source key>`), an object with no full-object SHA-256 of its own is not read: when
 * its seed copy is a copy of this version ({@link seedCopyFor}), that copy's S3-computed SHA-256 names
 * the blob and the copy is the server-side copy source. Anything else is read and hashed as without a seed.
 */
import {
  CompleteMultipartUploadCommand, CopyObjectCommand, CreateMultipartUploadCommand, GetObjectCommand, HeadObjectCommand,
  ListObjectsV2Command, UploadPartCopyCommand, AbortMultipartUploadCommand, type HeadObjectCommandOutput, type S3Client,
} from '@aws-sdk/client-s3';
import type { Readable } from 'node:stream';
import { naming } from '../core';
import { RuntimeError } from './errors';
import { buildNightIndex, listNights, readManifestV2, type DatasetIndex, type IndexEntry, type ListedObject, type ResolvedObject } from './format';
import type { ObjectStore } from './stores/types';
import { S3Store, fullObjectSha256 } from './stores/s3';
import { hashStream } from './util';

/** @deprecated format v1's source-ETag metadata name; v2 keeps the ETag in the index. */
export const SOURCE_ETAG_METADATA = 'cp-source-etag';
/** At most this many copied blob keys are returned in the result. */
export const MAX_REPORTED_KEYS = 1000;
/** CopyObject's limit; larger objects are copied with multipart UploadPartCopy. */
export const MAX_COPY_OBJECT_BYTES = 5 * 1024 ** 3;
/**
 * Objects resolved at once when a seed bucket is given: a seeded object costs four small requests and no
 * bytes through the task, so latency, not the task's network, bounds a seed night; 48 stays under the
 * SDK's default of 50 sockets per client (docs/aws.md "Initial seed: timing model").
 */
export const SEEDED_CONCURRENCY = 48;
/** Part size of a multipart copy (at least this; more when 10,000 parts would not cover the object). */
export const COPY_PART_BYTES = 512 * 1024 ** 2;

export interface SyncObjectsOptions {
  readonly s3: S3Client;
  readonly sourceBucket: string;
  /** @default '' (the whole bucket) */
  readonly sourcePrefix?: string;
  readonly exportBucket: string;
  readonly dataset: string;
  /** The night being exported (`YYYY-MM-DD`). @default today (UTC) */
  readonly night?: string;
  /** Objects resolved (hashed, copied) at once. @default 16, or SEEDED_CONCURRENCY with `seedBucket` */
  readonly concurrency?: number;
  /** S3 client for the source, when it differs (another account/region). @default s3 */
  readonly sourceS3?: S3Client;
  /**
   * Send `x-amz-sdk-checksum-algorithm` on CopyObject: moto refuses a copy into an Object Lock
   * bucket without it (real S3 does not ask). Set for emulators. @default false
   */
  readonly emulatorChecksumHeader?: boolean;
  /** @default 7 */
  readonly checkpointEveryNights?: number;
  /** Index run folder name (tests). @default `run-<UTC time>` */
  readonly runId?: string;
  /** The export bucket as a store (tests). @default an S3Store on `s3` */
  readonly store?: ObjectStore;
  /**
   * The initial seed's bucket (`CP_SEED_BUCKET`), read with `s3`: its copies `copies/<dataset>/<source key>`
   * stand in for reading a source object that has no full-object SHA-256 ({@link seedCopyFor}).
   * @default - no seed: every such object is read once to hash it
   */
  readonly seedBucket?: string;
}

export interface SyncObjectsResult {
  readonly night: string;
  /** Objects in the source (the night's view). */
  readonly examined: number;
  /** Blobs written this night. */
  readonly copied: number;
  /** Objects whose index entry was carried over (same ETag and size). */
  readonly skipped: number;
  readonly bytesCopied: number;
  /** Blob keys written this night, sorted (the first 1,000 written, so a seed night stays in bounded memory). */
  readonly copiedKeys: readonly string[];
  readonly added: number;
  readonly changed: number;
  readonly removed: number;
  /** Objects whose bytes were read to hash them. */
  readonly hashed: number;
  /** Objects whose SHA-256 (and copy source) came from their seed copy instead ({@link seedCopyFor}). */
  readonly seeded: number;
  /** Seed lookups that fell back to reading the source, by reason (only with `seedBucket`). */
  readonly seedUnused: Readonly<Partial<Record<SeedMiss, number>>>;
  readonly checkpoint: boolean;
  readonly summaryKey: string;
  readonly index: DatasetIndex;
}

/** The source listing, page by page (never the whole bucket in memory), every key as S3 lists it. */
export async function* listSource(s3: S3Client, bucket: string, prefix: string): AsyncIterable<ListedObject> {
  let token: string | undefined;
  do {
    const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }));
    for (const o of page.Contents ?? []) {
      if (o.Key === undefined) continue;
      yield { key: o.Key, size: Number(o.Size ?? 0), etag: o.ETag ?? '', modified: o.LastModified ? o.LastModified.toISOString() : null };
    }
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
}

/** `CopySource` for a key: bucket + the key with each segment URL-encoded (so `/`, spaces, unicode, `\` and `..` survive), plus the version. */
export function copySource(bucket: string, key: string, versionId?: string | null): string {
  const base = `${bucket}/${key.split('/').map(encodeURIComponent).join('/')}`;
  return versionId ? `${base}?versionId=${encodeURIComponent(versionId)}` : base;
}

function isNotFound(err: unknown): boolean {
  const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
  return e?.name === 'NotFound' || e?.name === 'NoSuchKey' || e?.$metadata?.httpStatusCode === 404;
}

/** The newest earlier night whose manifest has an index for `dataset` (walks back over failed nights). */
export async function previousIndex(store: ObjectStore, night: string, dataset: string): Promise<DatasetIndex | undefined> {
  const earlier = (await listNights(store)).filter((n) => n < night).reverse();
  for (const n of earlier) {
    const d = (await readManifestV2(store, n)).manifest.datasets.find((x) => x.name === dataset);
    if (d?.index) return d.index;
    if (d && d.status === 'ok') return undefined;
  }
  return undefined;
}

function withEmulatorChecksum<T extends { middlewareStack: { add: (...a: never[]) => unknown } }>(cmd: T, on: boolean): T {
  if (!on) return cmd;
  (cmd.middlewareStack as unknown as { add: (mw: unknown, o: unknown) => void }).add((next: (a: unknown) => unknown) => async (args: { request: { headers?: Record<string, string> } }) => {
    if (args.request.headers) args.request.headers['x-amz-sdk-checksum-algorithm'] = 'SHA256';
    return next(args);
  }, { step: 'build', name: 'cpEmulatorChecksumHeader' });
  return cmd;
}

/** Server-side copy of one source version into a blob; multipart for objects over 5 GiB. Returns S3's SHA-256 (hex) when it gives one. */
export async function copyIntoBlob(opts: {
  s3: S3Client; sourceBucket: string; key: string; versionId: string | null; etag: string; size: number; exportBucket: string; blob: string;
  contentType: string | null; metadata: Readonly<Record<string, string>>; emulatorChecksumHeader?: boolean;
}): Promise<string | undefined> {
  const source = copySource(opts.sourceBucket, opts.key, opts.versionId);
  const ifMatch = opts.etag || undefined;
  if (opts.size <= MAX_COPY_OBJECT_BYTES) {
    const r = await opts.s3.send(withEmulatorChecksum(new CopyObjectCommand({
      Bucket: opts.exportBucket, Key: opts.blob, CopySource: source, CopySourceIfMatch: ifMatch, MetadataDirective: 'COPY', ChecksumAlgorithm: 'SHA256',
    }), Boolean(opts.emulatorChecksumHeader)));
    const c = r.CopyObjectResult?.ChecksumSHA256;
    return c ? fullObjectSha256(c, r.CopyObjectResult?.ChecksumType) : undefined;
  }
  const partSize = Math.max(COPY_PART_BYTES, Math.ceil(opts.size / 10_000 / 1024 ** 2) * 1024 ** 2);
  const created = await opts.s3.send(new CreateMultipartUploadCommand({
    Bucket: opts.exportBucket, Key: opts.blob, ContentType: opts.contentType ?? undefined, Metadata: { ...opts.metadata },
  }));
  const uploadId = created.UploadId!;
  try {
    const parts: { ETag: string; PartNumber: number }[] = [];
    for (let start = 0, n = 1; start < opts.size; start += partSize, n++) {
      const end = Math.min(opts.size, start + partSize) - 1;
      const p = await opts.s3.send(new UploadPartCopyCommand({
        Bucket: opts.exportBucket, Key: opts.blob, UploadId: uploadId, PartNumber: n, CopySource: source, CopySourceIfMatch: ifMatch, CopySourceRange: `bytes=${start}-${end}`,
      }));
      parts.push({ ETag: p.CopyPartResult?.ETag ?? '', PartNumber: n });
    }
    await opts.s3.send(new CompleteMultipartUploadCommand({ Bucket: opts.exportBucket, Key: opts.blob, UploadId: uploadId, MultipartUpload: { Parts: parts } }));
  } catch (err) {
    await opts.s3.send(new AbortMultipartUploadCommand({ Bucket: opts.exportBucket, Key: opts.blob, UploadId: uploadId })).catch(() => undefined);
    throw err;
  }
  return undefined;
}

/** Seed-copy metadata naming the source version it copied; checked when present (S3 Batch Operations' Copy adds none). */
export const SEED_SOURCE_ETAG_METADATA = 'cp-source-etag';
export const SEED_SOURCE_VERSION_METADATA = 'cp-source-version-id';

/** Where the initial seed copies a source key to: `copies/<dataset>/<source key>` (lib/aws/initial-seed.ts `seedCopiesPrefix`). */
export function seedCopyKey(dataset: string, key: string): string {
  return `copies/${dataset}/${key}`;
}

/** Why a seed copy was not used (the object is then read and hashed). */
export type SeedMiss = 'missing' | 'noFullObjectSha256' | 'size' | 'notNewer' | 'sourceEtag' | 'sourceVersion' | 'metadata';

/** The source version being resolved, as its HEAD showed it. */
export interface SourceVersion {
  readonly size: number;
  readonly modified?: Date;
  readonly etag: string;
  readonly version: string | null;
  readonly contentType: string | null;
  readonly metadata: Readonly<Record<string, string>>;
}

/** A server-side copy source pinned to the bytes that were hashed (or whose S3 SHA-256 was taken). */
interface CopyFrom {
  readonly bucket: string;
  readonly key: string;
  readonly versionId: string | null;
  readonly etag: string;
}

/** A usable seed copy: its key in the seed bucket, its ETag (the copy is pinned to it) and its S3-computed SHA-256 (hex). */
export interface SeedCopy {
  readonly key: string;
  readonly etag: string;
  readonly sha256: string;
}

const unquote = (etag: string): string => etag.replace(/^"|"$/g, '');

function sameMetadata(a: Readonly<Record<string, string>>, b: Readonly<Record<string, string>>): boolean {
  const ka = Object.keys(a).sort();
  const kb = Object.keys(b).sort();
  return ka.length === kb.length && ka.every((k, i) => k === kb[i] && a[k] === b[k]);
}

/**
 * Whether a seed copy's HEAD shows a copy of exactly this source version: an S3-computed full-object
 * SHA-256 (never trusted without one), the same size, written strictly after the source's last change
 * (HTTP dates have whole seconds: a copy in the same second as a rewrite is not trusted), the source
 * ETag / version when the copy records them, and the source's Content-Type and user metadata (a Copy with
 * MetadataDirective COPY carries both). Undefined when it matches.
 */
export function seedMismatch(head: HeadObjectCommandOutput, source: SourceVersion): SeedMiss | undefined {
  if (!fullObjectSha256(head.ChecksumSHA256, head.ChecksumType)) return 'noFullObjectSha256';
  if (Number(head.ContentLength) !== source.size) return 'size';
  if (!head.LastModified || !source.modified || head.LastModified.getTime() <= source.modified.getTime()) return 'notNewer';
  const { [SEED_SOURCE_ETAG_METADATA]: etag, [SEED_SOURCE_VERSION_METADATA]: version, ...metadata } = head.Metadata ?? {};
  if (etag !== undefined && unquote(etag) !== unquote(source.etag)) return 'sourceEtag';
  if (version !== undefined && version !== (source.version ?? 'null')) return 'sourceVersion';
  if ((head.ContentType ?? null) !== source.contentType || !sameMetadata(metadata, source.metadata)) return 'metadata';
  return undefined;
}

/** The seed's copy of `key` when it may stand in for reading the source ({@link seedMismatch}); otherwise why not. */
export async function seedCopyFor(s3: S3Client, seedBucket: string, dataset: string, key: string, source: SourceVersion): Promise<SeedCopy | SeedMiss> {
  const seedKey = seedCopyKey(dataset, key);
  let head: HeadObjectCommandOutput;
  try {
    head = await s3.send(new HeadObjectCommand({ Bucket: seedBucket, Key: seedKey, ChecksumMode: 'ENABLED' }));
  } catch (err) {
    if (isNotFound(err)) return 'missing';
    throw err;
  }
  const miss = seedMismatch(head, source);
  if (miss) return miss;
  return { key: seedKey, etag: head.ETag ?? '', sha256: fullObjectSha256(head.ChecksumSHA256, head.ChecksumType)! };
}

export async function syncObjects(opts: SyncObjectsOptions): Promise<SyncObjectsResult> {
  const src = opts.sourceS3 ?? opts.s3;
  const night = opts.night ?? naming.nightId(new Date());
  naming.nightPrefix(night);
  const store = opts.store ?? new S3Store(opts.exportBucket, opts.s3);
  const previous = await previousIndex(store, night, opts.dataset);
  const inflight = new Map<string, Promise<boolean>>();
  const copiedKeys: string[] = [];
  let hashed = 0;
  let bytesCopied = 0;
  let copiedBlobs = 0;
  let seeded = 0;
  const seedUnused: Partial<Record<SeedMiss, number>> = {};
  /** The object's SHA-256 and the copy source for its blob: its own checksum, its seed copy, or its bytes read once. */
  const contentOf = async (key: string, source: SourceVersion, own: string | undefined): Promise<{ sha256: string; size: number; from: CopyFrom }> => {
    const fromSource: CopyFrom = { bucket: opts.sourceBucket, key, versionId: source.version, etag: source.etag };
    if (own) return { sha256: own, size: source.size, from: fromSource };
    if (opts.seedBucket) {
      const seed = await seedCopyFor(opts.s3, opts.seedBucket, opts.dataset, key, source);
      if (typeof seed !== 'string') {
        seeded++;
        return { sha256: seed.sha256, size: source.size, from: { bucket: opts.seedBucket, key: seed.key, versionId: null, etag: seed.etag } };
      }
      seedUnused[seed] = (seedUnused[seed] ?? 0) + 1;
    }
    const got = await src.send(new GetObjectCommand({ Bucket: opts.sourceBucket, Key: key, VersionId: source.version ?? undefined, IfMatch: source.etag || undefined }));
    const h = await hashStream(got.Body as Readable);
    hashed++;
    return { sha256: h.sha256, size: h.size, from: fromSource };
  };
  const resolve = async (o: ListedObject, _prev?: IndexEntry): Promise<ResolvedObject | null> => {
    const where = `s3://${opts.sourceBucket}/${o.key}`;
    let head;
    try {
      head = await src.send(new HeadObjectCommand({ Bucket: opts.sourceBucket, Key: o.key, ChecksumMode: 'ENABLED' }));
    } catch (err) {
      if (isNotFound(err)) return null; // deleted since the listing: not in this night's view
      throw err;
    }
    const version = head.VersionId && head.VersionId !== 'null' ? head.VersionId : null;
    const source: SourceVersion = {
      size: Number(head.ContentLength ?? o.size), modified: head.LastModified, version, contentType: head.ContentType ?? null, metadata: { ...(head.Metadata ?? {}) },
      etag: head.ETag ?? o.etag, // rewritten since the listing: pin (and record) what is read now
    };
    const { sha256, size, from } = await contentOf(o.key, source, fullObjectSha256(head.ChecksumSHA256, head.ChecksumType));
    const { etag, contentType, metadata } = source;
    const blob = naming.blobKey(sha256);
    let once = inflight.get(sha256);
    let mine = false;
    if (!once) {
      mine = true;
      once = (async () => {
        if (await store.head(blob)) return false;
        const s3sha = await copyIntoBlob({ s3: opts.s3, sourceBucket: from.bucket, key: from.key, versionId: from.versionId, etag: from.etag, size, exportBucket: opts.exportBucket, blob, contentType, metadata, emulatorChecksumHeader: opts.emulatorChecksumHeader });
        if (s3sha && s3sha !== sha256) throw new RuntimeError(`${where}: S3 computed sha256 ${s3sha} for the copy of s3://${from.bucket}/${from.key} into ${blob}, expected ${sha256}`);
        return true;
      })();
      inflight.set(sha256, once);
    }
    let copied: boolean;
    try {
      copied = await once;
    } finally {
      if (mine) inflight.delete(sha256); // only in-flight copies are shared; a later duplicate finds the blob by HEAD
    }
    if (mine && copied) {
      copiedBlobs++;
      if (copiedKeys.length < MAX_REPORTED_KEYS) copiedKeys.push(blob);
      bytesCopied += size;
    }
    return { sha256, size, version, contentType, metadata, copied: mine && copied, ...(etag !== o.etag ? { etag } : {}) };
  };
  const built = await buildNightIndex({
    store, night, dataset: opts.dataset, previous, resolve, concurrency: opts.concurrency ?? (opts.seedBucket ? SEEDED_CONCURRENCY : 16),
    listing: listSource(src, opts.sourceBucket, opts.sourcePrefix ?? ''), checkpointEveryNights: opts.checkpointEveryNights, runId: opts.runId,
  });
  const n = built.index.night;
  copiedKeys.sort();
  return {
    night, examined: built.records, copied: copiedBlobs, skipped: built.records - n.added - n.changed, bytesCopied, copiedKeys,
    added: n.added, changed: n.changed, removed: n.removed, hashed, seeded, seedUnused, checkpoint: built.checkpoint, summaryKey: built.summaryKey, index: built.index,
  };
}

