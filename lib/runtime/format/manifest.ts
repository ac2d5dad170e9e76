/**
 * The night's manifest, format v2 (docs/runtime.md "Format v2"): chained to the previous night's
 * manifest bytes, one summary per dataset (status, counts, export summary, and for `s3Bucket`
 * datasets the index runs that rebuild the night's view), and the night's own files with SHA-256.
 * Blobs are not listed: the index names them. Same input gives the same bytes.
 */
import { naming } from '../../core';
import type { DatasetKind } from '../../core';
import { ManifestError } from '../errors';
import { compareUtf8 } from './keys';
import { FORMAT_VERSION, type DatasetIndex, type IndexFile, type IndexRun } from './types';

export interface ManifestEntry {
  readonly key: string;
  readonly size: number;
  /** Lower-case hex SHA-256 of the object's bytes. */
  readonly sha256: string;
  /** The dataset the object belongs to. */
  readonly dataset: string;
}

export type DatasetStatus = 'ok' | 'failed';

export interface ManifestDataset {
  readonly name: string;
  readonly kind: DatasetKind;
  /** `ok`, or `failed` when the night's export of this dataset did not complete (`reason` says why). */
  readonly status: DatasetStatus;
  readonly reason: string | null;
  /** The dataset's files of this night: `nights/<night>/<name>/`. */
  readonly prefix: string;
  /** `s3Bucket`: objects and bytes of the night's view (the source); other kinds: the night's export files. */
  readonly objects: number;
  readonly bytes: number;
  /**
   * Counts from the export itself, for completeness checks: `items` (DynamoDB export summary),
   * `documents` (Connect), `tocEntries` (pg_dump, when the exporter recorded it), `added`/`changed`/`removed` (s3Bucket).
   */
  readonly summary: Readonly<Record<string, number>>;
  /** `s3Bucket` datasets: how to rebuild the night's view. Null for other kinds and for failed datasets. */
  readonly index: DatasetIndex | null;
}

export interface Manifest {
  readonly formatVersion: 2;
  readonly night: string;
  readonly createdAt: string;
  readonly system: string | null;
  readonly bucket: string | null;
  readonly previous: { readonly night: string; readonly sha256: string } | null;
  readonly datasets: readonly ManifestDataset[];
  /** Over `entries`. */
  readonly totals: { readonly objects: number; readonly bytes: number };
  /** The night's own files (exports and index files; not blobs), sorted by key. */
  readonly entries: readonly ManifestEntry[];
}

function file(f: IndexFile): IndexFile {
  return { key: f.key, sha256: f.sha256, size: f.size, records: f.records };
}

function run(r: IndexRun): IndexRun {
  return { night: r.night, files: r.files.map(file), records: r.records };
}

function index(i: DatasetIndex): DatasetIndex {
  const n = i.night;
  return {
    checkpoint: run(i.checkpoint),
    since: i.since.map(run),
    night: { ...run(n), added: n.added, changed: n.changed, removed: n.removed, newBlobs: n.newBlobs, newBlobBytes: n.newBlobBytes, copiedBlobs: n.copiedBlobs, copiedBytes: n.copiedBytes },
  };
}

function sortedRecord(r: Readonly<Record<string, number>>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const k of Object.keys(r).sort()) out[k] = r[k];
  return out;
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
    datasets: m.datasets.map((d) => ({
      name: d.name, kind: d.kind, status: d.status, reason: d.reason, prefix: d.prefix, objects: d.objects, bytes: d.bytes,
      summary: sortedRecord(d.summary), index: d.index ? index(d.index) : null,
    })),
    totals: { objects: m.totals.objects, bytes: m.totals.bytes },
    entries: m.entries.map((e) => ({ key: e.key, size: e.size, sha256: e.sha256, dataset: e.dataset })),
  };
  return Buffer.from(`${JSON.stringify(ordered, null, 2)}\n`, 'utf8');
}

const HEX64 = /^[0-9a-f]{64}$/;
export const DATASET_KINDS_V2: readonly string[] = ['s3Bucket', 'dynamoDbTable', 'postgres', 'connectInstance'];

function fail(where: string, what: string): never {
  throw new ManifestError(`corrupt manifest${where ? ` ${where}` : ''}: ${what}`);
}

function isCount(n: unknown): n is number {
  return typeof n === 'number' && Number.isSafeInteger(n) && n >= 0;
}

/** The message a reader gives for a manifest of another format version. */
export function unsupportedVersionMessage(version: unknown): string {
  if (version === 1) {
    return 'formatVersion 1 is not read by this build (it reads format 2). No deployment holds v1 data: run the nightly export once with this release to write a v2 night, and verify that (docs/runtime.md "Format v2")';
  }
  return `unsupported formatVersion ${JSON.stringify(version)} (this build reads ${FORMAT_VERSION}; a newer night needs a newer release of the counterparty jobs)`;
}

function checkRun(where: string, name: string, r: unknown): void {
  const x = r as Record<string, unknown>;
  if (!x || typeof x !== 'object' || typeof x.night !== 'string' || !naming.isNightId(x.night) || !Array.isArray(x.files) || !isCount(x.records)) fail(where, `dataset ${name}: bad index run ${JSON.stringify(r)}`);
  let records = 0;
  for (const f of x.files as Record<string, unknown>[]) {
    if (!f || typeof f.key !== 'string' || typeof f.sha256 !== 'string' || !HEX64.test(f.sha256) || !isCount(f.size) || !isCount(f.records)) fail(where, `dataset ${name}: bad index file ${JSON.stringify(f)}`);
    records += f.records as number;
  }
  if (records !== x.records) fail(where, `dataset ${name}: index run of ${x.night} says ${x.records} records, its files sum to ${records}`);
}

function checkIndex(where: string, night: string, d: Record<string, unknown>): void {
  const i = d.index as Record<string, unknown> | null;
  if (d.kind !== 's3Bucket' || d.status !== 'ok') {
    if (i !== null) fail(where, `dataset ${d.name}: index must be null for a ${d.kind} dataset with status ${d.status}`);
    return;
  }
  if (!i || typeof i !== 'object' || !Array.isArray(i.since)) fail(where, `dataset ${d.name}: an ok s3Bucket dataset needs an index`);
  checkRun(where, d.name as string, i.checkpoint);
  for (const r of i.since as unknown[]) checkRun(where, d.name as string, r);
  checkRun(where, d.name as string, i.night);
  const cp = (i.checkpoint as IndexRun).night;
  const since = i.since as IndexRun[];
  const own = i.night as IndexRun;
  if (own.night !== night) fail(where, `dataset ${d.name}: index night run is for ${own.night}`);
  if (cp > night) fail(where, `dataset ${d.name}: checkpoint ${cp} is after the night`);
  let prev = cp;
  for (const r of since) {
    if (r.night <= prev) fail(where, `dataset ${d.name}: change runs not in night order after ${prev}`);
    prev = r.night;
  }
  if (cp === night ? since.length !== 0 : prev !== night) fail(where, `dataset ${d.name}: change runs must end with this night's (or be empty on a checkpoint night)`);
}

/** Parses and checks a manifest; throws {@link ManifestError} naming what is wrong (v1 is refused with the way forward). */
export function parseManifest(bytes: Buffer | string, where = ''): Manifest {
  let raw: unknown;
  try {
    raw = JSON.parse(typeof bytes === 'string' ? bytes : bytes.toString('utf8'));
  } catch (err) {
    fail(where, `not JSON (${(err as Error).message})`);
  }
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) fail(where, 'not a JSON object');
  const m = raw as Record<string, unknown>;
  if (m.formatVersion !== FORMAT_VERSION) fail(where, unsupportedVersionMessage(m.formatVersion));
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
  const names = new Set<string>();
  for (const d of m.datasets as Record<string, unknown>[]) {
    if (!d || typeof d.name !== 'string' || !DATASET_KINDS_V2.includes(d.kind as string) || typeof d.prefix !== 'string' || !isCount(d.objects) || !isCount(d.bytes)) {
      fail(where, `bad dataset ${JSON.stringify(d)?.slice(0, 200)}`);
    }
    if (d.status !== 'ok' && d.status !== 'failed') fail(where, `dataset ${d.name}: status must be ok or failed`);
    if (d.status === 'failed' && (typeof d.reason !== 'string' || !d.reason)) fail(where, `dataset ${d.name}: a failed dataset needs a reason`);
    if (d.reason !== null && typeof d.reason !== 'string') fail(where, `dataset ${d.name}: reason must be a string or null`);
    if (!d.summary || typeof d.summary !== 'object' || Object.values(d.summary).some((v) => !isCount(v))) fail(where, `dataset ${d.name}: summary must map names to counts`);
    if (names.has(d.name as string)) fail(where, `dataset ${d.name} listed twice`);
    names.add(d.name as string);
    checkIndex(where, m.night, d);
  }
  let objects = 0;
  let bytesTotal = 0;
  let last: string | undefined;
  for (const e of m.entries as Record<string, unknown>[]) {
    if (!e || typeof e.key !== 'string' || !e.key || !isCount(e.size) || typeof e.sha256 !== 'string' || !HEX64.test(e.sha256) || typeof e.dataset !== 'string') {
      fail(where, `bad entry ${JSON.stringify(e)?.slice(0, 200)}`);
    }
    if (last !== undefined && compareUtf8(last, e.key as string) >= 0) fail(where, `entries not sorted by key or duplicated at ${JSON.stringify(e.key)}`);
    last = e.key as string;
    if (!names.has(e.dataset as string)) fail(where, `entry ${e.key} names unknown dataset ${JSON.stringify(e.dataset)}`);
    objects++;
    bytesTotal += e.size as number;
  }
  if (objects !== totals.objects || bytesTotal !== totals.bytes) fail(where, `totals say ${totals.objects} objects/${totals.bytes} bytes, entries sum to ${objects}/${bytesTotal}`);
  return m as unknown as Manifest;
}
