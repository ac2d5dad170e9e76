/**
 * The format v2 read API: list nights, read a night's manifest, stream a dataset's view or changes,
 * and the blobs the verifier must hash (new ones, plus a rotating scrub subset).
 */
import { naming } from '../../core';
import { ManifestError } from '../errors';
import type { ObjectStore } from '../stores/types';
import { sha256Hex } from '../util';
import { parseManifest, type Manifest, type ManifestDataset, type ManifestEntry } from './manifest';
import { compareUtf8, nightDayNumber } from './keys';
import { applyChanges } from './merge';
import { remember } from './dedupe';
import { readRun } from './ndjson';
import type { BlobRef, ChangeRecord, DatasetIndex, IndexEntry } from './types';

const MANIFEST_KEY_RE = /^nights\/(\d{4}-\d{2}-\d{2})\/manifest\.json$/;

/** Nights named by the keys under `prefix` that match `keyPattern` (night in group 1), oldest first. */
export async function listNightsByKey(store: ObjectStore, prefix: string, keyPattern: RegExp): Promise<string[]> {
  const nights: string[] = [];
  for await (const o of store.list(prefix)) {
    const m = keyPattern.exec(o.key);
    if (m && naming.isNightId(m[1])) nights.push(m[1]);
  }
  return nights.sort();
}

/** Nights that have a manifest in `store`, oldest first. */
export async function listNights(store: ObjectStore): Promise<string[]> {
  // One listing per night folder would skip the index and export files; a delimiter listing is not in
  // the store interface, so list `nights/` and keep the manifests (the night folders hold few files:
  // the exports and the night's index files).
  return listNightsByKey(store, naming.NIGHTS_PREFIX, MANIFEST_KEY_RE);
}

/** A manifest as read from a store: parsed, plus the SHA-256 of its exact bytes. */
export interface StoredManifest {
  readonly manifest: Manifest;
  readonly sha256: string;
  readonly bytes: Buffer;
  readonly key: string;
}

/** Reads and checks `nights/<night>/manifest.json` (format v2; v1 is refused with the way forward). */
export async function readManifestV2(store: ObjectStore, night: string): Promise<StoredManifest> {
  const key = naming.manifestKey(night);
  const bytes = await store.getBytes(key);
  const manifest = parseManifest(bytes, `${store.url}/${key}`);
  if (manifest.night !== night) throw new ManifestError(`corrupt manifest ${store.url}/${key}: it says night ${manifest.night}`);
  return { manifest, sha256: sha256Hex(bytes), bytes, key };
}

/**
 * Every file a night needs besides its blobs, with the SHA-256 the manifest pins: its own entries,
 * plus the index files of earlier nights its views are rebuilt from (the checkpoint and change runs).
 * What an exit bundle or a full copy of one night must carry. Sorted by key.
 */
export function requiredFiles(manifest: Manifest): ManifestEntry[] {
  const out = new Map<string, ManifestEntry>(manifest.entries.map((e) => [e.key, e]));
  for (const d of manifest.datasets) {
    if (!d.index) continue;
    for (const r of [d.index.checkpoint, ...d.index.since, d.index.night]) {
      for (const f of r.files) if (!out.has(f.key)) out.set(f.key, { key: f.key, size: f.size, sha256: f.sha256, dataset: d.name });
    }
  }
  return [...out.values()].sort((a, b) => compareUtf8(a.key, b.key));
}

/** The full view of an `s3Bucket` dataset from its index: the checkpoint with each later night's changes applied, streamed. */
export function viewOf(store: ObjectStore, index: DatasetIndex): AsyncIterable<IndexEntry> {
  let view: AsyncIterable<IndexEntry> = readRun<IndexEntry>(store, index.checkpoint.files);
  for (const r of index.since) view = applyChanges(view, readRun<ChangeRecord>(store, r.files), ` of ${r.night}`);
  return view;
}

/** A night opened for reading. Every iterator streams; none holds the dataset in memory. */
export interface NightReader extends StoredManifest {
  readonly night: string;
  readonly datasets: readonly ManifestDataset[];
  dataset(name: string): ManifestDataset;
  /** Every object of an `s3Bucket` dataset that night, sorted by source key. */
  entries(dataset: string): AsyncIterable<IndexEntry>;
  /** What changed in an `s3Bucket` dataset that night (added, changed, removed), sorted by key. */
  changes(dataset: string): AsyncIterable<ChangeRecord>;
  /** The blobs named by the night's added and changed entries (each once within a window of 100,000): what a verifier must hash. */
  newBlobs(dataset?: string): AsyncIterable<BlobRef & { readonly dataset: string }>;
}

export async function readNight(store: ObjectStore, night: string): Promise<NightReader> {
  const stored = await readManifestV2(store, night);
  const m = stored.manifest;
  const dataset = (name: string): ManifestDataset => {
    const d = m.datasets.find((x) => x.name === name);
    if (!d) throw new ManifestError(`night ${night} has no dataset ${JSON.stringify(name)} (it has ${m.datasets.map((x) => x.name).join(', ')})`);
    return d;
  };
  const indexOf = (name: string): DatasetIndex => {
    const d = dataset(name);
    if (!d.index) throw new ManifestError(`night ${night}: dataset ${name} has no index (${d.kind === 's3Bucket' ? `status ${d.status}${d.reason ? `: ${d.reason}` : ''}` : `a ${d.kind} dataset`})`);
    return d.index;
  };
  const changes = (name: string): AsyncIterable<ChangeRecord> => readRun<ChangeRecord>(store, indexOf(name).night.files);
  async function* newBlobs(name?: string): AsyncIterable<BlobRef & { dataset: string }> {
    const names = name ? [name] : m.datasets.filter((d) => d.index).map((d) => d.name);
    const seen = new Set<string>();
    for (const n of names) {
      for await (const c of changes(n)) {
        if (c.op === 'remove' || seen.has(c.sha256)) continue;
        remember(seen, c.sha256);
        yield { sha256: c.sha256, size: c.size, dataset: n };
      }
    }
  }
  return { ...stored, night, datasets: m.datasets, dataset, entries: (name) => viewOf(store, indexOf(name)), changes, newBlobs };
}

// ------------------------------------------------------------------------------------- scrub

/**
 * The two-hex blob prefixes (`00`..`ff`) scrubbed on `night`: prefix p is read on the nights whose
 * day number ≡ p (mod `scrubCycleNights`). Over any `scrubCycleNights` consecutive nights every
 * prefix, so every blob, is read at least once; each night reads about 256 ÷ cycle of them (for
 * cycles over 256, some nights read none).
 */
export function scrubPrefixes(night: string, scrubCycleNights: number): string[] {
  if (!Number.isInteger(scrubCycleNights) || scrubCycleNights < 1) throw new Error(`scrubCycleNights must be a whole number >= 1, got ${scrubCycleNights}`);
  const slot = nightDayNumber(night) % scrubCycleNights;
  const out: string[] = [];
  for (let p = 0; p < 256; p++) if (p % scrubCycleNights === slot) out.push(p.toString(16).padStart(2, '0'));
  return out;
}

/** Whether the blob with this SHA-256 is in `night`'s scrub subset. */
export function inScrubSubset(sha256: string, night: string, scrubCycleNights: number): boolean {
  const p = parseInt(sha256.slice(0, 2), 16);
  return p % scrubCycleNights === nightDayNumber(night) % scrubCycleNights;
}

/** The blobs of `allBlobs` in `night`'s scrub subset (deterministic; see {@link scrubPrefixes}). */
export async function* scrubSubset<T extends BlobRef>(allBlobs: AsyncIterable<T> | Iterable<T>, night: string, scrubCycleNights: number): AsyncIterable<T> {
  for await (const b of allBlobs) if (inScrubSubset(b.sha256, night, scrubCycleNights)) yield b;
}

/** The blobs stored under the given two-hex prefixes (all 256 when omitted), with their sizes, in key order. */
export async function* listBlobs(store: ObjectStore, prefixes?: readonly string[]): AsyncIterable<BlobRef & { readonly key: string }> {
  for (const p of prefixes ?? Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'))) {
    for await (const o of store.list(`${naming.BLOBS_PREFIX}${p}/`)) {
      const sha256 = naming.blobSha256(o.key);
      if (sha256) yield { key: o.key, sha256, size: o.size };
    }
  }
}

/** What a verification run read, for its record: the night's files, the new blobs and the scrub share. */
export interface Coverage {
  readonly nightFiles: { readonly objects: number; readonly bytes: number };
  readonly newBlobs: { readonly objects: number; readonly bytes: number };
  readonly scrub: { readonly cycleNights: number; readonly prefixes: readonly string[]; readonly objects: number; readonly bytes: number };
}
