/**
 * Export format v2 (docs/runtime.md "Format v2"): append-only, content-addressed, any retained night
 * restorable. The read API the verifier, restorer, exit bundle and reload use, and the writer parts
 * sync-objects and build-manifest use.
 */
export * from './types';
export { compareUtf8, nightDayNumber } from './keys';
export { parseManifest, serializeManifest, unsupportedVersionMessage, DATASET_KINDS_V2, type Manifest, type ManifestDataset, type ManifestEntry, type DatasetStatus } from './manifest';
export { readIndexFile, readRun, ShardWriter, INDEX_SHARD_RECORDS } from './ndjson';
export { applyChanges, diffListing, mapOrdered, forEachLimit, Peekable, type ListedObject, type DiffStep } from './merge';
export {
  listNights, listNightsByKey, readManifestV2, readNight, requiredFiles, viewOf, scrubPrefixes, inScrubSubset, scrubSubset, listBlobs,
  type StoredManifest, type NightReader, type Coverage,
} from './read';
export { checkObject, checkNightFiles, checkBlobs, checkNight, type BadObject, type CheckResult, type CheckOptions, type NightCheck } from './blob-check';
export { buildNightIndex, indexSummaryKey, defaultRunId, CHECKPOINT_EVERY_NIGHTS, type BuildIndexOptions, type BuildIndexResult, type ResolvedObject, type IndexSummary } from './build-index';
export { blobKey, blobSha256 } from './blob-key';
