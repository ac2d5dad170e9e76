/**
 * The writer side of a night's index for one `s3Bucket` dataset: one streaming pass over the source
 * listing merged with the previous night's view. Unchanged objects cost nothing but the merge; new
 * and changed ones go through `resolve` (hash, copy into a blob), at most `concurrency` at a time.
 * Writes this night's change run, a full checkpoint every `checkpointEveryNights` nights, and last
 * `summary.json`, all under a fresh `nights/<night>/<dataset>/index/<run>/` (a re-run never
 * overwrites an earlier attempt).
 */
import { naming } from '../../core';
import type { ObjectStore } from '../stores/types';
import { diffListing, mapOrdered, type DiffStep, type ListedObject } from './merge';
import { ShardWriter, INDEX_SHARD_RECORDS } from './ndjson';
import { viewOf } from './read';
import { remember } from './dedupe';
import type { ChangeRecord, DatasetIndex, IndexEntry, IndexRun } from './types';

/** Nights between full checkpoints of a dataset's index. @default 7 */
export const CHECKPOINT_EVERY_NIGHTS = 7;

/** What `resolve` found out about a new or changed object (and whether it wrote its blob). */
export interface ResolvedObject {
  readonly sha256: string;
  readonly size: number;
  readonly version: string | null;
  readonly contentType: string | null;
  readonly metadata: Readonly<Record<string, string>>;
  /** The blob was written by this run (false: it existed already). */
  readonly copied: boolean;
  /** The ETag the bytes were read under, when it differs from the listing's (changed in between). */
  readonly etag?: string;
}

export interface BuildIndexOptions {
  readonly store: ObjectStore;
  readonly night: string;
  readonly dataset: string;
  /** The source, sorted by key (UTF-8 byte order), streamed. */
  readonly listing: AsyncIterable<ListedObject>;
  /** The newest earlier night's index of this dataset; absent: this night is a full checkpoint. */
  readonly previous?: DatasetIndex;
  /** Hashes (and stores) a new or changed object; null when it vanished since the listing (then it is not in the view). */
  readonly resolve: (listed: ListedObject, previous?: IndexEntry) => Promise<ResolvedObject | null>;
  /** @default 16 */
  readonly concurrency?: number;
  /** @default CHECKPOINT_EVERY_NIGHTS */
  readonly checkpointEveryNights?: number;
  /** @default INDEX_SHARD_RECORDS */
  readonly shardRecords?: number;
  /** Folder under `index/`. @default `run-<UTC time>` */
  readonly runId?: string;
}

export interface BuildIndexResult {
  readonly index: DatasetIndex;
  /** Objects in the night's view and their bytes. */
  readonly records: number;
  readonly bytes: number;
  readonly summaryKey: string;
  readonly checkpoint: boolean;
}

/** The summary sync-objects writes last; build-manifest reads it. */
export interface IndexSummary {
  readonly formatVersion: 2;
  readonly night: string;
  readonly dataset: string;
  readonly records: number;
  readonly bytes: number;
  readonly index: DatasetIndex;
}

export function indexSummaryKey(night: string, dataset: string, runId: string): string {
  return `${naming.datasetIndexPrefix(night, dataset)}${runId}/summary.json`;
}

export function defaultRunId(now = new Date()): string {
  return `run-${now.toISOString().replace(/[-:.]/g, '')}`;
}

async function* none(): AsyncIterable<IndexEntry> { /* empty view */ }


type Resolved = { step: DiffStep | { kind: 'vanished' }; entry?: IndexEntry; copied?: boolean };

export async function buildNightIndex(opts: BuildIndexOptions): Promise<BuildIndexResult> {
  const { store, night, dataset } = opts;
  const runId = opts.runId ?? defaultRunId();
  const prefix = `${naming.datasetIndexPrefix(night, dataset)}${runId}/`;
  const every = opts.checkpointEveryNights ?? CHECKPOINT_EVERY_NIGHTS;
  const checkpoint = !opts.previous || opts.previous.since.length + 1 >= every;
  const shard = opts.shardRecords ?? INDEX_SHARD_RECORDS;
  const changes = new ShardWriter(store, prefix, 'changes', shard);
  const full = checkpoint ? new ShardWriter(store, prefix, 'full', shard) : undefined;
  const previousView = opts.previous ? viewOf(store, opts.previous) : none();
  const steps = mapOrdered(diffListing(previousView, opts.listing), opts.concurrency ?? 16, async (step): Promise<Resolved> => {
    if (step.kind !== 'new') return { step };
    const r = await opts.resolve(step.listed, step.previous);
    if (!r) return step.previous ? { step: { kind: 'gone', previous: step.previous } } : { step: { kind: 'vanished' } };
    const entry: IndexEntry = {
      key: step.listed.key, version: r.version, etag: r.etag ?? step.listed.etag, size: r.size, sha256: r.sha256, blob: naming.blobKey(r.sha256),
      contentType: r.contentType, metadata: r.metadata, modified: step.listed.modified,
    };
    return { step, entry, copied: r.copied };
  });
  const counts = { added: 0, changed: 0, removed: 0, newBlobs: 0, newBlobBytes: 0, copiedBlobs: 0, copiedBytes: 0 };
  const seen = new Set<string>();
  let records = 0;
  let bytes = 0;
  for await (const r of steps) {
    if (r.step.kind === 'vanished') continue;
    if (r.step.kind === 'gone') {
      const p = r.step.previous;
      counts.removed++;
      const rec: ChangeRecord = { op: 'remove', key: p.key, sha256: p.sha256, size: p.size, blob: p.blob };
      await changes.write(rec);
      continue;
    }
    const entry = r.step.kind === 'same' ? r.step.entry : r.entry!;
    records++;
    bytes += entry.size;
    if (full) await full.write(entry);
    if (r.step.kind === 'new') {
      const op = r.step.previous ? 'change' : 'add';
      counts[op === 'add' ? 'added' : 'changed']++;
      const rec: ChangeRecord = { op, ...entry };
      await changes.write(rec);
      if (!seen.has(entry.sha256)) {
        remember(seen, entry.sha256);
        counts.newBlobs++;
        counts.newBlobBytes += entry.size;
      }
      if (r.copied) {
        counts.copiedBlobs++;
        counts.copiedBytes += entry.size;
      }
    }
  }
  const ch = await changes.close();
  const nightRun = { night, files: ch.files, records: ch.records, ...counts };
  let index: DatasetIndex;
  if (full) {
    const f = await full.close();
    index = { checkpoint: { night, files: f.files, records: f.records }, since: [], night: nightRun };
  } else {
    const own: IndexRun = { night, files: ch.files, records: ch.records };
    index = { checkpoint: opts.previous!.checkpoint, since: [...opts.previous!.since, own], night: nightRun };
  }
  const summary: IndexSummary = { formatVersion: 2, night, dataset, records, bytes, index };
  const summaryKey = `${prefix}summary.json`;
  await store.put(summaryKey, `${JSON.stringify(summary, null, 2)}\n`, { contentType: 'application/json' });
  return { index, records, bytes, summaryKey, checkpoint: Boolean(full) };
}
