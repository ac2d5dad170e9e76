import type { Readable } from 'node:stream';

/** One object found by {@link ObjectStore.list}. */
export interface ObjectInfo {
  readonly key: string;
  readonly size: number;
  /** Last modified (creation, for write-once objects), when the listing says. */
  readonly modified?: Date;
}

/** What {@link ObjectStore.head} knows about one object. */
export interface HeadInfo {
  readonly size: number;
  /**
   * The object's full-object SHA-256 (hex) as the store itself computed it, when it has one
   * (S3 `ChecksumSHA256` of type FULL_OBJECT). Never set from user metadata.
   */
  readonly sha256?: string;
  /** User metadata (lower-case keys). */
  readonly metadata: Readonly<Record<string, string>>;
  readonly etag?: string;
  readonly modified?: Date;
  /**
   * Until when the store refuses to delete or replace the object (S3 Object Lock retain-until date,
   * GCS retention expiration, Azure immutability expiry), when it has one.
   */
  readonly retainUntil?: Date;
}

export interface PutOptions {
  readonly contentType?: string;
  readonly metadata?: Readonly<Record<string, string>>;
}

/**
 * The small object-store interface. The verifier, restorer and exit bundle use only this, so
 * they run the same against S3, Azure Blob, GCS or a local folder, and never need AWS on the
 * counterparty side.
 */
export interface ObjectStore {
  /** The store's URL (`s3://bucket`, `gs://bucket`, `azblob://account/container`, `file:///dir`). */
  readonly url: string;
  /** Every object under `prefix`, in ascending key order (byte order of the UTF-8 keys). */
  list(prefix: string): AsyncIterable<ObjectInfo>;
  /** The object's size and checksums, or undefined when it does not exist. */
  head(key: string): Promise<HeadInfo | undefined>;
  /** Streams the object's bytes; throws {@link ObjectNotFoundError} when it does not exist. */
  get(key: string): Promise<Readable>;
  /** Reads a small object whole (manifests, records, JSON); throws {@link ObjectNotFoundError}. */
  getBytes(key: string): Promise<Buffer>;
  /** Writes an object (streams are uploaded without buffering them whole). */
  put(key: string, body: Buffer | string | Readable, options?: PutOptions): Promise<void>;
  /** Where the application reaches an object (a URL; https for cloud stores). */
  locationOf(key: string): string;
  /**
   * Deletes an object (every version of it where the store keeps versions), for `prune` only.
   * The store refuses while a lock or retention holds the object.
   */
  delete?(key: string): Promise<void>;
}

/** Thrown when a store's retention refuses to replace or delete an object. */
export class RetentionError extends Error {
  constructor(readonly storeUrl: string, readonly key: string, readonly retainUntil: Date, what: 'overwrite' | 'delete') {
    super(`${storeUrl}: ${key} is under retention until ${retainUntil.toISOString()}; ${what} refused`);
    this.name = 'RetentionError';
  }
}

export class ObjectNotFoundError extends Error {
  constructor(readonly storeUrl: string, readonly key: string) {
    super(`${storeUrl}: object not found: ${key}`);
    this.name = 'ObjectNotFoundError';
  }
}

/** Collects a stream into one buffer (only for small objects). */
export async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

/** Sorts keys by their UTF-8 bytes (what S3 and Azure list in). */
export function compareKeys(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}
