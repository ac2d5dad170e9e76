/**
 * The counterparty's records, append-only (every key is written once and never overwritten, so they
 * work on create-only storage with a retention lock, as on GCS):
 *
 * - `verifications/<night>/<attempt>.json`: one per verification attempt of a night
 *   (`success` | `failure` | `pending`); the newest attempt for the night's current manifest wins,
 *   so a later success supersedes an earlier failure;
 * - `verifications/high-water/<night>.json`: written the first time a night's manifest is seen on this
 *   side; the newest one is the high-water mark. The newest manifest may never be older than it
 *   (a deleted or replaced head of the chain is a rollback, and alerts);
 * - `restorations/<night>/<attempt>.json`: one per completed restore.
 *
 * Written to the verified store itself by default, or to `CP_RECORDS_STORE`.
 */
import { randomBytes } from 'node:crypto';
import { naming } from '../core';
import { ManifestError, RuntimeError } from './errors';
import { listNights as listManifestNights, readManifestV2 as readManifest, type StoredManifest } from './format';
import { ObjectNotFoundError, type ObjectStore } from './stores/types';

export interface BadObject {
  readonly key: string;
  readonly problem: string;
}

export type AttemptResult = 'success' | 'failure' | 'pending';

export interface VerificationRecord {
  readonly formatVersion: 2;
  readonly night: string;
  readonly result: AttemptResult;
  /** The failure's reason code (docs/runtime.md), when result is failure. */
  readonly reason?: string;
  readonly verifiedAt: string;
  /** The store that was verified. */
  readonly store: string;
  /** SHA-256 of the manifest bytes that were verified. */
  readonly manifestSha256: string | null;
  /** The manifest's createdAt (the data's age is measured from it). */
  readonly manifestCreatedAt: string | null;
  readonly objects: number;
  readonly bytes: number;
  readonly chain: {
    readonly previous: { readonly night: string; readonly sha256: string } | null;
    /** `ok`: links intact back to `linkedTo` (the newest earlier verified night, or the first night). */
    readonly status: 'ok' | 'first' | 'broken';
    readonly linkedTo: string | null;
  };
  /** What the attempt read: the night's files, the new blobs and the scrub share (format v2). */
  readonly coverage?: {
    readonly nightFiles: { readonly objects: number; readonly bytes: number };
    readonly newBlobs: { readonly objects: number; readonly bytes: number };
    readonly scrub: { readonly cycleNights: number; readonly prefixes: readonly string[]; readonly objects: number; readonly bytes: number };
  };
  /** Kind-specific counts per dataset (items, documents, objects, toc entries). */
  readonly counts?: Readonly<Record<string, Readonly<Record<string, number>>>>;
  readonly bad: readonly BadObject[];
}

export interface RestorationRecord {
  readonly formatVersion: 1;
  readonly night: string;
  readonly manifestSha256: string;
  readonly manifestCreatedAt: string;
  readonly restoredAt: string;
  readonly target: string;
  readonly datasets: readonly string[];
  readonly forced: boolean;
}

export interface HighWaterRecord {
  readonly night: string;
  readonly manifestSha256: string;
  readonly manifestCreatedAt: string;
  readonly seenAt: string;
}

export const RESTORATIONS_PREFIX = 'restorations/';
export const HIGH_WATER_PREFIX = `${naming.VERIFICATIONS_PREFIX}high-water/`;

const ATTEMPT_RE = /^verifications\/(\d{4}-\d{2}-\d{2})\/([^/]+)\.json$/;
const RESTORATION_RE = /^restorations\/(\d{4}-\d{2}-\d{2})\/([^/]+)\.json$/;
const HIGH_WATER_RE = /^verifications\/high-water\/(\d{4}-\d{2}-\d{2})(\.withdrawn)?\.json$/;

/** A key for one attempt: sortable by time, unique (never overwrites an earlier attempt). */
export function attemptId(at: Date): string {
  return `${at.toISOString().replace(/[-:]/g, '').replace('.', '')}-${randomBytes(3).toString('hex')}`;
}

export function verificationAttemptKey(night: string, at: Date): string {
  naming.nightPrefix(night);
  return `${naming.VERIFICATIONS_PREFIX}${night}/${attemptId(at)}.json`;
}

export function restorationKey(night: string, at: Date): string {
  naming.nightPrefix(night);
  return `${RESTORATIONS_PREFIX}${night}/${attemptId(at)}.json`;
}

export function highWaterKey(night: string): string {
  naming.nightPrefix(night);
  return `${HIGH_WATER_PREFIX}${night}.json`;
}

/** Writes a record under a new key; an existing key is never overwritten. */
export async function putRecord(store: ObjectStore, key: string, value: unknown): Promise<void> {
  if (await store.head(key)) throw new RuntimeError(`${store.url}/${key} already exists; records are never overwritten`);
  await store.put(key, `${JSON.stringify(value, null, 2)}\n`, { contentType: 'application/json' });
}

async function readJson<T>(store: ObjectStore, key: string): Promise<T | undefined> {
  try {
    return JSON.parse((await store.getBytes(key)).toString('utf8')) as T;
  } catch (err) {
    if (err instanceof ObjectNotFoundError || err instanceof SyntaxError) return undefined;
    throw err;
  }
}

/** Attempt keys per night (each list oldest first), from one listing of `verifications/`. */
export async function listAttemptKeys(store: ObjectStore, re: RegExp = ATTEMPT_RE, prefix: string = naming.VERIFICATIONS_PREFIX): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>();
  for await (const o of store.list(prefix)) {
    const m = re.exec(o.key);
    if (!m || !naming.isNightId(m[1])) continue;
    out.set(m[1], [...(out.get(m[1]) ?? []), o.key]);
  }
  for (const keys of out.values()) keys.sort();
  return new Map([...out.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

function isRecord(raw: VerificationRecord | undefined, night: string): raw is VerificationRecord {
  return Boolean(raw && raw.night === night && (raw.result === 'success' || raw.result === 'failure' || raw.result === 'pending'));
}

/** Every readable attempt for a night, oldest first. */
export async function readAttempts(store: ObjectStore, night: string, keys?: readonly string[]): Promise<VerificationRecord[]> {
  const list = keys ?? (await listAttemptKeys(store)).get(night) ?? [];
  const out: VerificationRecord[] = [];
  for (const k of list) {
    const r = await readJson<VerificationRecord>(store, k);
    if (isRecord(r, night)) out.push(r);
  }
  return out;
}

/**
 * The record that decides a night: its newest attempt (optionally only attempts of manifest
 * `manifestSha256`). Reads newest first and stops at the first readable one.
 */
export async function readRecord(store: ObjectStore, night: string, manifestSha256?: string, keys?: readonly string[]): Promise<VerificationRecord | undefined> {
  const list = keys ?? (await listAttemptKeys(store)).get(night) ?? [];
  for (const k of [...list].reverse()) {
    const r = await readJson<VerificationRecord>(store, k);
    if (!isRecord(r, night)) continue;
    if (manifestSha256 && r.manifestSha256 !== manifestSha256) continue;
    return r;
  }
  return undefined;
}

/** Nights with at least one verification attempt in `store` (any result), oldest first. */
export async function listRecordNights(store: ObjectStore): Promise<string[]> {
  return [...(await listAttemptKeys(store)).keys()];
}

/**
 * The newest night whose deciding record says success AND whose manifest in `store` still has
 * the verified bytes (a manifest edited after verification does not count).
 */
export async function latestVerifiedNight(store: ObjectStore, recordsStore: ObjectStore = store, before?: string): Promise<{ night: string; record: VerificationRecord; manifest: StoredManifest } | undefined> {
  const attempts = await listAttemptKeys(recordsStore);
  const nights = [...attempts.keys()].filter((n) => !before || n < before).reverse();
  for (const night of nights) {
    const found = await verifiedManifest(store, recordsStore, night, attempts.get(night));
    if (found) return found;
  }
  return undefined;
}

/** The night's manifest when it is verified (its newest attempt for these exact bytes is a success). */
export async function verifiedManifest(store: ObjectStore, recordsStore: ObjectStore, night: string, keys?: readonly string[]): Promise<{ night: string; record: VerificationRecord; manifest: StoredManifest } | undefined> {
  let manifest: StoredManifest;
  try {
    manifest = await readManifest(store, night);
  } catch (err) {
    if (err instanceof ObjectNotFoundError || err instanceof ManifestError) return undefined;
    throw err;
  }
  const record = await readRecord(recordsStore, night, manifest.sha256, keys);
  return record?.result === 'success' ? { night, record, manifest } : undefined;
}

/**
 * An operator's statement that a night seen here was never a real night (e.g. a forged manifest that
 * failed verification and was removed): `verifications/high-water/<night>.withdrawn.json`, itself
 * append-only, with who and why. The high-water mark then ignores that night.
 */
export function highWaterWithdrawalKey(night: string): string {
  naming.nightPrefix(night);
  return `${HIGH_WATER_PREFIX}${night}.withdrawn.json`;
}

/** The high-water mark: the newest night ever seen on this side and not withdrawn (undefined before the first). */
export async function readHighWater(store: ObjectStore): Promise<HighWaterRecord | undefined> {
  const seen = new Set<string>();
  const withdrawn = new Set<string>();
  for await (const o of store.list(HIGH_WATER_PREFIX)) {
    const m = HIGH_WATER_RE.exec(o.key);
    if (m && naming.isNightId(m[1])) (m[2] ? withdrawn : seen).add(m[1]);
  }
  const newest = [...seen].filter((n) => !withdrawn.has(n)).sort().pop();
  if (!newest) return undefined;
  return (await readJson<HighWaterRecord>(store, highWaterKey(newest))) ?? { night: newest, manifestSha256: '', manifestCreatedAt: '', seenAt: '' };
}

/** Restoration records, newest night last. */
export async function latestRestoration(store: ObjectStore): Promise<RestorationRecord | undefined> {
  const all = await listAttemptKeys(store, RESTORATION_RE, RESTORATIONS_PREFIX);
  for (const night of [...all.keys()].reverse()) {
    for (const k of [...all.get(night)!].reverse()) {
      const r = await readJson<RestorationRecord>(store, k);
      if (r && r.night === night && r.manifestSha256) return r;
    }
  }
  return undefined;
}

/**
 * Resolves a night selector: a `YYYY-MM-DD`, `latest` (newest night with a manifest) or
 * `latest-verified` (newest verified night). Throws a one-line RuntimeError otherwise.
 */
export async function resolveNight(store: ObjectStore, selector: string, recordsStore: ObjectStore = store): Promise<string> {
  if (selector === 'latest') {
    const nights = await listManifestNights(store);
    if (!nights.length) throw new RuntimeError(`${store.url}: no night has a manifest (nothing under nights/*/manifest.json)`);
    return nights[nights.length - 1];
  }
  if (selector === 'latest-verified') {
    const found = await latestVerifiedNight(store, recordsStore);
    if (!found) throw new RuntimeError(`${recordsStore.url}: no verified night (no verifications/<night>/ record with result success matching its manifest); run verify first`);
    return found.night;
  }
  if (!naming.isNightId(selector)) throw new RuntimeError(`not a night: ${JSON.stringify(selector)} (use YYYY-MM-DD, latest or latest-verified)`);
  if (!(await store.head(naming.manifestKey(selector)))) {
    const nights = await listManifestNights(store);
    throw new RuntimeError(`${store.url}: unknown night ${selector}: no ${naming.manifestKey(selector)} (nights with a manifest: ${nights.length ? nights.slice(-5).join(', ') : 'none'})`);
  }
  return selector;
}
