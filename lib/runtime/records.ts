/**
 * Verification records: `verifications/<night>.json`, written by a counterparty's verifier on the
 * counterparty side (the verified store itself, or a separate records store `CP_RECORDS_STORE`).
 */
import { naming } from '../core';
import { ManifestError, RuntimeError } from './errors';
import { listManifestNights, listNightsByKey, readManifest, type StoredManifest } from './manifest';
import { ObjectNotFoundError, type ObjectStore } from './stores/types';

export interface BadObject {
  readonly key: string;
  readonly problem: string;
}

export interface VerificationRecord {
  readonly formatVersion: 1;
  readonly night: string;
  readonly result: 'success' | 'failure';
  readonly verifiedAt: string;
  /** The store that was verified. */
  readonly store: string;
  /** SHA-256 of the manifest bytes that were verified. */
  readonly manifestSha256: string | null;
  readonly objects: number;
  readonly bytes: number;
  readonly chain: {
    readonly previous: { readonly night: string; readonly sha256: string } | null;
    /** `ok`: links intact back to `linkedTo` (the newest earlier verified night, or the first night). */
    readonly status: 'ok' | 'first' | 'broken';
    readonly linkedTo: string | null;
  };
  readonly bad: readonly BadObject[];
}

const RECORD_RE = /^verifications\/(\d{4}-\d{2}-\d{2})\.json$/;

export async function readRecord(store: ObjectStore, night: string): Promise<VerificationRecord | undefined> {
  try {
    const raw = JSON.parse((await store.getBytes(naming.verificationRecordKey(night))).toString('utf8')) as VerificationRecord;
    if (raw && raw.night === night && (raw.result === 'success' || raw.result === 'failure')) return raw;
    return undefined;
  } catch (err) {
    if (err instanceof ObjectNotFoundError || err instanceof SyntaxError) return undefined;
    throw err;
  }
}

/** Nights with a verification record in `store` (any result), oldest first. */
export function listRecordNights(store: ObjectStore): Promise<string[]> {
  return listNightsByKey(store, naming.VERIFICATIONS_PREFIX, RECORD_RE);
}

/**
 * The newest night whose verification record says success AND whose manifest in `store` still has
 * the verified bytes (a manifest edited after verification does not count).
 */
export async function latestVerifiedNight(store: ObjectStore, recordsStore: ObjectStore = store, before?: string): Promise<{ night: string; record: VerificationRecord; manifest: StoredManifest } | undefined> {
  const nights = (await listRecordNights(recordsStore)).filter((n) => !before || n < before).reverse();
  for (const night of nights) {
    const record = await readRecord(recordsStore, night);
    if (!record || record.result !== 'success' || !record.manifestSha256) continue;
    let manifest: StoredManifest;
    try {
      manifest = await readManifest(store, night);
    } catch (err) {
      if (err instanceof ObjectNotFoundError || err instanceof ManifestError) continue;
      throw err;
    }
    if (manifest.sha256 === record.manifestSha256) return { night, record, manifest };
  }
  return undefined;
}

/**
 * Resolves a night selector: a `YYYY-MM-DD`, `latest` (newest night with a manifest) or
 * `latest-verified` (newest night with a success record). Throws a one-line RuntimeError otherwise.
 */
export async function resolveNight(store: ObjectStore, selector: string, recordsStore: ObjectStore = store): Promise<string> {
  if (selector === 'latest') {
    const nights = await listManifestNights(store);
    if (!nights.length) throw new RuntimeError(`${store.url}: no night has a manifest (nothing under nights/*/manifest.json)`);
    return nights[nights.length - 1];
  }
  if (selector === 'latest-verified') {
    const found = await latestVerifiedNight(store, recordsStore);
    if (!found) throw new RuntimeError(`${recordsStore.url}: no verified night (no verifications/<night>.json with result success matching its manifest); run verify first`);
    return found.night;
  }
  if (!naming.isNightId(selector)) throw new RuntimeError(`not a night: ${JSON.stringify(selector)} (use YYYY-MM-DD, latest or latest-verified)`);
  if (!(await store.head(naming.manifestKey(selector)))) {
    const nights = await listManifestNights(store);
    throw new RuntimeError(`${store.url}: unknown night ${selector}: no ${naming.manifestKey(selector)} (nights with a manifest: ${nights.length ? nights.slice(-5).join(', ') : 'none'})`);
  }
  return selector;
}
