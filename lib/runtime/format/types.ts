/**
 * Format v2 records (docs/runtime.md "Format v2"). Index files are gzipped NDJSON, one record per
 * line, sorted by `key` in UTF-8 byte order, each key once per file run.
 */

export const FORMAT_VERSION = 2;

/** One object of an `s3Bucket` dataset as the source held it that night (the logical view). */
export interface IndexEntry {
  /** The source key, exactly as S3 listed it (any bytes S3 allows, up to 1,024). */
  readonly key: string;
  /** The source object's VersionId when the bucket is versioned, else null. */
  readonly version: string | null;
  /** The source object's ETag as listed (change detection only; never used as a checksum). */
  readonly etag: string;
  readonly size: number;
  /** Lower-case hex SHA-256 of the bytes. */
  readonly sha256: string;
  /** `blobs/sha256/<2 hex>/<sha256>`: where the bytes are. */
  readonly blob: string;
  readonly contentType: string | null;
  /** The source object's user metadata (lower-case names). */
  readonly metadata: Readonly<Record<string, string>>;
  /** The source object's LastModified (ISO-8601), or null. */
  readonly modified: string | null;
}

/** What changed for one key between the previous night's view and this night's. */
export type ChangeRecord =
  | ({ readonly op: 'add' | 'change' } & IndexEntry)
  | { readonly op: 'remove'; readonly key: string; readonly sha256: string; readonly size: number; readonly blob: string };

/** One gzipped NDJSON file of the index, pinned by its SHA-256. */
export interface IndexFile {
  readonly key: string;
  readonly sha256: string;
  readonly size: number;
  readonly records: number;
}

/** A sorted run of records spread over one or more files (read in the order listed). */
export interface IndexRun {
  readonly night: string;
  readonly files: readonly IndexFile[];
  readonly records: number;
}

/**
 * How to rebuild a night's full view of an `s3Bucket` dataset: the newest full checkpoint at or before
 * the night, then each later night's changes applied in order (`since`, oldest first, ending with
 * this night's unless this night is the checkpoint). `night` is this night's own changes.
 */
export interface DatasetIndex {
  readonly checkpoint: IndexRun;
  readonly since: readonly IndexRun[];
  readonly night: IndexRun & { readonly added: number; readonly changed: number; readonly removed: number; readonly newBlobs: number; readonly newBlobBytes: number; readonly copiedBlobs: number; readonly copiedBytes: number };
}

/** A blob to check: its SHA-256 (the key names it) and, when known, its size. */
export interface BlobRef {
  readonly sha256: string;
  readonly size?: number;
}
