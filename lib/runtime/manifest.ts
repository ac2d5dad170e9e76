/**
 * The night's manifest, format v1: every object of the night (both the `objects/<dataset>/` and the
 * `nights/<night>/` prefixes) with key, size and SHA-256, counts and bytes per dataset and in total,
 * and the SHA-256 of the previous night's manifest bytes (the chain). See docs/runtime.md.
 *
 * Same input → same bytes: keys are listed in a fixed order, entries sorted by key, and
 * `createdAt` is an input (the caller passes the run's time).
 */
import { naming } from '../core';
import type { DatasetKind } from '../core';
import { ManifestError } from './errors';
import { compareKeys, type ObjectStore } from './stores/types';
import { hashStream, mapLimit, sha256Hex } from './util';

export const MANIFEST_FORMAT_VERSION = 1;

export interface ManifestEntry {
  readonly key: string;
  readonly size: number;
  /** Lower-case hex SHA-256 of the object's bytes. */
  readonly sha256: string;
  /** The dataset the object belongs to. */
  readonly dataset: string;
}

export interface ManifestDataset {
  readonly name: string;
  readonly kind: DatasetKind;
  /** Where the dataset's objects are (`objects/<name>/` or `nights/<night>/<name>/`). */
  readonly prefix: string;
  readonly objects: number;
  readonly bytes: number;
}

export interface Manifest {
  readonly formatVersion: 1;
  readonly night: string;
  readonly createdAt: string;
  readonly system: string | null;
  readonly bucket: string | null;
  readonly previous: { readonly night: string; readonly sha256: string } | null;
  readonly datasets: readonly ManifestDataset[];
  readonly totals: { readonly objects: number; readonly bytes: number };
  readonly entries: readonly ManifestEntry[];
}

/** The exact bytes of a manifest (fixed key order, 2-space JSON, trailing newline). */
export function serializeManifest(m: Manifest): Buffer {
  const ordered = {
    formatVersion: m.formatVersion,
    night: m.night,
    createdAt: m.createdAt,
    system: m.system,
    bucket: m.bucket,
    previous: m.previous ? { night: m.previous.night, sha256: m.previous.sha256 } : null,
    datasets: m.datasets.map((d) => ({ name: d.name, kind: d.kind, prefix: d.prefix, objects: d.objects, bytes: d.bytes })),
    totals: { objects: m.totals.objects, bytes: m.totals.bytes },
    entries: m.entries.map((e) => ({ key: e.key, size: e.size, sha256: e.sha256, dataset: e.dataset })),
  };
  return Buffer.from(`${JSON.stringify(ordered, null, 2)}\n`, 'utf8');
}

const HEX64 = /^[0-9a-f]{64}$/;
const KINDS: readonly string[] = ['s3Bucket', 'dynamoDbTable', 'postgres', 'connectInstance'];

function fail(where: string, what: string): never {
  throw new ManifestError(`corrupt manifest${where ? ` ${where}` : ''}: ${what}`);
}

function isCount(n: unknown): n is number {
  return typeof n === 'number' && Number.isSafeInteger(n) && n >= 0;
}

/** Parses and checks a manifest; throws {@link ManifestError} naming what is wrong. */
export function parseManifest(bytes: Buffer | string, where = ''): Manifest {
  let raw: unknown;
  try {
    raw = JSON.parse(typeof bytes === 'string' ? bytes : bytes.toString('utf8'));
  } catch (err) {
    fail(where, `not JSON (${(err as Error).message})`);
  }
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) fail(where, 'not a JSON object');
  const m = raw as Record<string, unknown>;
  if (m.formatVersion !== MANIFEST_FORMAT_VERSION) fail(where, `unsupported formatVersion ${JSON.stringify(m.formatVersion)} (this build reads ${MANIFEST_FORMAT_VERSION})`);
  if (typeof m.night !== 'string' || !naming.isNightId(m.night)) fail(where, `night ${JSON.stringify(m.night)} is not YYYY-MM-DD`);
  if (typeof m.createdAt !== 'string' || Number.isNaN(Date.parse(m.createdAt))) fail(where, 'createdAt is not a timestamp');
  if (m.system !== null && typeof m.system !== 'string') fail(where, 'system must be a string or null');
  if (m.bucket !== null && typeof m.bucket !== 'string') fail(where, 'bucket must be a string or null');
  const prev = m.previous as Record<string, unknown> | null;
  if (prev !== null) {
    if (!prev || typeof prev !== 'object' || typeof prev.night !== 'string' || !naming.isNightId(prev.night) || typeof prev.sha256 !== 'string' || !HEX64.test(prev.sha256)) {
      fail(where, 'previous must be null or { night, sha256 }');
    }
    if (prev.night >= m.night) fail(where, `previous night ${prev.night} is not before ${m.night}`);
  }
  if (!Array.isArray(m.datasets)) fail(where, 'datasets is not a list');
  if (!Array.isArray(m.entries)) fail(where, 'entries is not a list');
  const totals = m.totals as Record<string, unknown>;
  if (!totals || !isCount(totals.objects) || !isCount(totals.bytes)) fail(where, 'totals must be { objects, bytes }');
  const perDataset = new Map<string, { objects: number; bytes: number }>();
  for (const d of m.datasets as Record<string, unknown>[]) {
    if (!d || typeof d.name !== 'string' || !KINDS.includes(d.kind as string) || typeof d.prefix !== 'string' || !isCount(d.objects) || !isCount(d.bytes)) {
      fail(where, `bad dataset ${JSON.stringify(d)}`);
    }
    if (perDataset.has(d.name as string)) fail(where, `dataset ${d.name} listed twice`);
    perDataset.set(d.name as string, { objects: 0, bytes: 0 });
  }
  let objects = 0;
  let bytesTotal = 0;
  let last: string | undefined;
  for (const e of m.entries as Record<string, unknown>[]) {
    if (!e || typeof e.key !== 'string' || !e.key || !isCount(e.size) || typeof e.sha256 !== 'string' || !HEX64.test(e.sha256) || typeof e.dataset !== 'string') {
      fail(where, `bad entry ${JSON.stringify(e)}`);
    }
    if (last !== undefined && compareKeys(last, e.key as string) >= 0) fail(where, `entries not sorted by key or duplicated at ${JSON.stringify(e.key)}`);
    last = e.key as string;
    const ds = perDataset.get(e.dataset as string);
    if (!ds) fail(where, `entry ${e.key} names unknown dataset ${JSON.stringify(e.dataset)}`);
    ds.objects++;
    ds.bytes += e.size as number;
    objects++;
    bytesTotal += e.size as number;
  }
  for (const d of m.datasets as ManifestDataset[]) {
    const got = perDataset.get(d.name)!;
    if (got.objects !== d.objects || got.bytes !== d.bytes) fail(where, `dataset ${d.name} says ${d.objects} objects/${d.bytes} bytes, entries sum to ${got.objects}/${got.bytes}`);
  }
  if (objects !== totals.objects || bytesTotal !== totals.bytes) fail(where, `totals say ${totals.objects} objects/${totals.bytes} bytes, entries sum to ${objects}/${bytesTotal}`);
  return m as unknown as Manifest;
}

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
export function listManifestNights(store: ObjectStore): Promise<string[]> {
  return listNightsByKey(store, naming.NIGHTS_PREFIX, MANIFEST_KEY_RE);
}

/** A manifest as read from a store: parsed, plus the SHA-256 of its exact bytes. */
export interface StoredManifest {
  readonly manifest: Manifest;
  readonly sha256: string;
  readonly bytes: Buffer;
  readonly key: string;
}

export async function readManifest(store: ObjectStore, night: string): Promise<StoredManifest> {
  const key = naming.manifestKey(night);
  const bytes = await store.getBytes(key);
  const manifest = parseManifest(bytes, `${store.url}/${key}`);
  if (manifest.night !== night) throw new ManifestError(`corrupt manifest ${store.url}/${key}: it says night ${manifest.night}`);
  return { manifest, sha256: sha256Hex(bytes), bytes, key };
}

export interface BuildManifestOptions {
  /** The export bucket (or any store holding the night). */
  readonly store: ObjectStore;
  readonly night: string;
  readonly datasets: readonly { readonly name: string; readonly kind: string }[];
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

/**
 * Lists the night's objects, takes each one's SHA-256 from the store when it carries a full-object
 * checksum and hashes it by streaming otherwise, links the previous night's manifest, and writes
 * `nights/<night>/manifest.json`.
 */
export async function buildManifest(opts: BuildManifestOptions): Promise<BuiltManifest> {
  const { store, night } = opts;
  naming.nightPrefix(night); // validates the night ID
  const manifestKey = naming.manifestKey(night);
  const datasets = [...opts.datasets].sort((a, b) => compareKeys(a.name, b.name));
  for (const d of datasets) if (!KINDS.includes(d.kind)) throw new ManifestError(`dataset ${d.name}: unknown kind ${JSON.stringify(d.kind)}`);
  const listed: { key: string; size: number; dataset: string }[] = [];
  const summaries: ManifestDataset[] = [];
  for (const d of datasets) {
    const prefix = naming.datasetPrefix(night, { kind: d.kind as DatasetKind, name: d.name });
    for await (const o of store.list(prefix)) {
      if (o.key === manifestKey) continue;
      listed.push({ key: o.key, size: o.size, dataset: d.name });
    }
    summaries.push({ name: d.name, kind: d.kind as DatasetKind, prefix, objects: 0, bytes: 0 });
  }
  listed.sort((a, b) => compareKeys(a.key, b.key));
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
  const byName = new Map(summaries.map((s) => [s.name, { ...s }]));
  for (const e of entries) {
    const s = byName.get(e.dataset)!;
    s.objects++;
    s.bytes += e.size;
  }
  const previousNight = (await listManifestNights(store)).filter((n) => n < night).pop();
  let previous: Manifest['previous'] = null;
  if (previousNight) {
    const bytes = await store.getBytes(naming.manifestKey(previousNight));
    previous = { night: previousNight, sha256: sha256Hex(bytes) };
  }
  const ds = [...byName.values()];
  const manifest: Manifest = {
    formatVersion: 1,
    night,
    createdAt: (opts.createdAt ?? new Date()).toISOString(),
    system: opts.system ?? null,
    bucket: opts.bucket ?? (store.url.startsWith('s3://') ? store.url.slice(5) : null),
    previous,
    datasets: ds,
    totals: { objects: entries.length, bytes: entries.reduce((n, e) => n + e.size, 0) },
    entries,
  };
  const bytes = serializeManifest(manifest);
  if (opts.write !== false) await store.put(manifestKey, bytes, { contentType: 'application/json' });
  return { manifest, bytes, sha256: sha256Hex(bytes), key: manifestKey, reusedChecksums: reused, hashedObjects: hashed };
}
