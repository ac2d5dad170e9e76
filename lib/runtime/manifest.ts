/**
 * The night's manifest, format v2 (lib/runtime/format/, docs/runtime.md "Export format v2"): the
 * builder the nightly `build-manifest` step runs. Readers use the read API in `./format`.
 *
 * The builder does work proportional to the night's own files: it lists `nights/<night>/<dataset>/`
 * (exports, and for `s3Bucket` datasets the index sync-objects wrote), hashes what S3 has no
 * full-object SHA-256 for, reads each export's summary counts, and links the previous manifest.
 * It never lists the blobs.
 */
import { naming } from '../core';
import type { DatasetKind } from '../core';
import { ManifestError, oneLine } from './errors';
import {
  DATASET_KINDS_V2, listNights, parseManifest, serializeManifest, compareUtf8,
  type IndexSummary, type Manifest, type ManifestDataset, type ManifestEntry, type StoredManifest,
} from './format';
import type { ObjectStore } from './stores/types';
import { hashStream, mapLimit, sha256Hex } from './util';

export { parseManifest, serializeManifest, listNightsByKey, type Manifest, type ManifestDataset, type ManifestEntry, type StoredManifest } from './format';

export const MANIFEST_FORMAT_VERSION = 2;

/** Nights that have a manifest in `store`, oldest first. */
export function listManifestNights(store: ObjectStore): Promise<string[]> {
  return listNights(store);
}

export interface BuildManifestOptions {
  /** The export bucket (or any store holding the night). */
  readonly store: ObjectStore;
  readonly night: string;
  readonly datasets: readonly { readonly name: string; readonly kind: string }[];
  /** Datasets whose export failed this night (name → reason), as the state machine caught them: marked `failed`. */
  readonly failures?: Readonly<Record<string, string>>;
  readonly system?: string;
  /** Recorded as `bucket` (defaults to the store URL's bucket). */
  readonly bucket?: string;
  /** @default now */
  readonly createdAt?: Date;
  /** Objects looked at (HEAD) or hashed at once. @default 16 */
  readonly concurrency?: number;
  /** Write the manifest to the store. @default true */
  readonly write?: boolean;
}

export interface BuiltManifest extends StoredManifest {
  /** Objects whose SHA-256 came from S3's full-object checksum (not re-read). */
  readonly reusedChecksums: number;
  readonly hashedObjects: number;
}

interface Listed { key: string; size: number; dataset: string }

/** The newest complete index run sync-objects wrote for the dataset this night (its summary.json is written last). */
async function newestIndexRun(store: ObjectStore, night: string, dataset: string): Promise<{ summary: IndexSummary; summaryKey: string; files: Listed[] } | undefined> {
  const prefix = naming.datasetIndexPrefix(night, dataset);
  const runs = new Map<string, Listed[]>();
  const complete: string[] = [];
  for await (const o of store.list(prefix)) {
    const rest = o.key.slice(prefix.length);
    const run = rest.split('/')[0];
    if (!runs.has(run)) runs.set(run, []);
    runs.get(run)!.push({ key: o.key, size: o.size, dataset });
    if (rest === `${run}/summary.json`) complete.push(run);
  }
  const run = complete.sort().pop();
  if (!run) return undefined;
  const summaryKey = `${prefix}${run}/summary.json`;
  const summary = JSON.parse((await store.getBytes(summaryKey)).toString('utf8')) as IndexSummary;
  if (summary.formatVersion !== 2 || summary.night !== night || summary.dataset !== dataset) throw new ManifestError(`${store.url}/${summaryKey}: not the index summary of ${dataset} for ${night}`);
  const files = runs.get(run)!;
  const named = new Set([...summary.index.night.files, ...(summary.index.checkpoint.night === night ? summary.index.checkpoint.files : [])].map((f) => f.key));
  for (const k of named) if (!files.some((f) => f.key === k)) throw new ManifestError(`${store.url}/${summaryKey} names ${k}, which is not there`);
  return { summary, summaryKey, files: files.filter((f) => named.has(f.key) || f.key === summaryKey) };
}

async function exportSummary(store: ObjectStore, kind: string, entries: readonly ManifestEntry[], prefix: string): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  if (kind === 'dynamoDbTable') {
    const s = entries.filter((e) => e.key.endsWith('/manifest-summary.json')).pop();
    if (s) {
      const j = JSON.parse((await store.getBytes(s.key)).toString('utf8')) as { itemCount?: number };
      if (typeof j.itemCount === 'number') out.items = j.itemCount;
    }
  } else if (kind === 'connectInstance') {
    const idx = entries.find((e) => e.key === `${prefix}index.json`);
    if (idx) {
      const j = JSON.parse((await store.getBytes(idx.key)).toString('utf8')) as { resources?: Record<string, number> };
      out.documents = Object.values(j.resources ?? {}).reduce((a, b) => a + (Number.isSafeInteger(b) ? b : 0), 0);
    }
  } else if (kind === 'postgres') {
    const toc = entries.find((e) => e.key.endsWith('.toc.json'));
    if (toc) {
      const j = JSON.parse((await store.getBytes(toc.key)).toString('utf8')) as { entries?: number };
      if (typeof j.entries === 'number') out.tocEntries = j.entries;
    }
  }
  return out;
}

/**
 * Builds (and writes) `nights/<night>/manifest.json`, format v2. A dataset is `failed` when the
 * caller says so (`failures`), when an `s3Bucket` dataset has no complete index run for the night,
 * or when another kind has no export files.
 */
export async function buildManifest(opts: BuildManifestOptions): Promise<BuiltManifest> {
  const { store, night } = opts;
  naming.nightPrefix(night); // validates the night ID
  const manifestKey = naming.manifestKey(night);
  const datasets = [...opts.datasets].sort((a, b) => compareUtf8(a.name, b.name));
  for (const d of datasets) if (!DATASET_KINDS_V2.includes(d.kind)) throw new ManifestError(`dataset ${d.name}: unknown kind ${JSON.stringify(d.kind)}`);
  const listed: Listed[] = [];
  const partial: { d: { name: string; kind: string }; prefix: string; failed?: string; index?: IndexSummary }[] = [];
  for (const d of datasets) {
    const prefix = naming.datasetNightPrefix(night, d.name);
    const given = opts.failures?.[d.name];
    if (given) {
      partial.push({ d, prefix, failed: given });
      continue;
    }
    if (d.kind === 's3Bucket') {
      let run: Awaited<ReturnType<typeof newestIndexRun>>;
      try {
        run = await newestIndexRun(store, night, d.name);
      } catch (err) {
        partial.push({ d, prefix, failed: `index unreadable: ${oneLine(err)}` });
        continue;
      }
      if (!run) {
        partial.push({ d, prefix, failed: `sync-objects wrote no complete index under ${naming.datasetIndexPrefix(night, d.name)} (no summary.json)` });
        continue;
      }
      listed.push(...run.files);
      partial.push({ d, prefix, index: run.summary });
      continue;
    }
    const before = listed.length;
    for await (const o of store.list(prefix)) if (o.key !== manifestKey) listed.push({ key: o.key, size: o.size, dataset: d.name });
    partial.push({ d, prefix, failed: listed.length === before ? `no export files under ${prefix}` : undefined });
  }
  listed.sort((a, b) => compareUtf8(a.key, b.key));
  for (let i = 1; i < listed.length; i++) {
    if (listed[i].key === listed[i - 1].key) throw new ManifestError(`object ${listed[i].key} belongs to two datasets (${listed[i - 1].dataset}, ${listed[i].dataset})`);
  }
  let reused = 0;
  let hashed = 0;
  const entries = await mapLimit(listed, opts.concurrency ?? 16, async (o): Promise<ManifestEntry> => {
    const head = await store.head(o.key);
    if (!head) throw new ManifestError(`object ${o.key} disappeared while the manifest was built`);
    if (head.sha256) {
      reused++;
      return { key: o.key, size: head.size, sha256: head.sha256, dataset: o.dataset };
    }
    const h = await hashStream(await store.get(o.key));
    hashed++;
    return { key: o.key, size: h.size, sha256: h.sha256, dataset: o.dataset };
  });
  const summaries: ManifestDataset[] = [];
  for (const p of partial) {
    const own = entries.filter((e) => e.dataset === p.d.name);
    const kind = p.d.kind as DatasetKind;
    if (p.failed) {
      summaries.push({ name: p.d.name, kind, status: 'failed', reason: p.failed, prefix: p.prefix, objects: 0, bytes: 0, summary: {}, index: null });
    } else if (p.index) {
      const n = p.index.index.night;
      summaries.push({
        name: p.d.name, kind, status: 'ok', reason: null, prefix: p.prefix, objects: p.index.records, bytes: p.index.bytes,
        summary: { added: n.added, changed: n.changed, removed: n.removed }, index: p.index.index,
      });
    } else {
      let summary: Record<string, number> = {};
      let failed: string | undefined;
      try {
        summary = await exportSummary(store, kind, own, p.prefix);
      } catch (err) {
        failed = `export summary unreadable: ${oneLine(err)}`;
      }
      summaries.push({
        name: p.d.name, kind, status: failed ? 'failed' : 'ok', reason: failed ?? null, prefix: p.prefix,
        objects: own.length, bytes: own.reduce((n, e) => n + e.size, 0), summary, index: null,
      });
    }
  }
  const previousNight = (await listManifestNights(store)).filter((n) => n < night).pop();
  let previous: Manifest['previous'] = null;
  if (previousNight) {
    const bytes = await store.getBytes(naming.manifestKey(previousNight));
    previous = { night: previousNight, sha256: sha256Hex(bytes) };
  }
  const manifest: Manifest = {
    formatVersion: 2,
    night,
    createdAt: (opts.createdAt ?? new Date()).toISOString(),
    system: opts.system ?? null,
    bucket: opts.bucket ?? (store.url.startsWith('s3://') ? store.url.slice(5) : null),
    previous,
    datasets: summaries,
    totals: { objects: entries.length, bytes: entries.reduce((n, e) => n + e.size, 0) },
    entries,
  };
  const bytes = serializeManifest(manifest);
  parseManifest(bytes, manifestKey); // the builder never writes what a reader would refuse
  if (opts.write !== false) await store.put(manifestKey, bytes, { contentType: 'application/json' });
  return { manifest, bytes, sha256: sha256Hex(bytes), key: manifestKey, reusedChecksums: reused, hashedObjects: hashed };
}
