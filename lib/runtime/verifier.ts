/**
 * The counterparty's verifier: reads a night's manifest from the counterparty copy, checks every
 * object's presence, size and SHA-256 (streaming), and that the manifest chain links back to the
 * previous verified night; writes a verification record and one structured log line.
 */
import { naming } from '../core';
import { ManifestError } from './errors';
import { logEvent } from './log';
import { parseManifest, readManifest, listManifestNights, type StoredManifest } from './manifest';
import { readRecord, resolveNight, type BadObject, type VerificationRecord } from './records';
import { ObjectNotFoundError, type ObjectStore } from './stores/types';
import { hashStream, mapLimit, sha256Hex } from './util';
import { oneLine } from './errors';

export interface VerifyOptions {
  readonly store: ObjectStore;
  /** `YYYY-MM-DD`, or `latest`. @default 'latest' */
  readonly night?: string;
  /** Where verification records are read and written. @default the verified store */
  readonly recordsStore?: ObjectStore;
  /** @default 8 */
  readonly concurrency?: number;
  /** @default true */
  readonly writeRecord?: boolean;
  /** @default now */
  readonly now?: Date;
  /** Called after each object (for progress). */
  readonly onObject?: (done: number, total: number, bytes: number) => void;
}

export interface VerifyResult extends VerificationRecord {
  /** The structured log line that was printed. */
  readonly logLine: string;
  /** Set when the record could not be written (the result still stands; the CLI exits non-zero). */
  readonly recordError?: string;
}

/** Checks every entry of a manifest against the store; returns the bad ones (sorted by key). */
export async function checkObjects(store: ObjectStore, stored: StoredManifest, concurrency = 8, onObject?: VerifyOptions['onObject']): Promise<{ bad: BadObject[]; bytes: number }> {
  const bad: BadObject[] = [];
  let done = 0;
  let bytes = 0;
  const entries = stored.manifest.entries;
  await mapLimit(entries, concurrency, async (e) => {
    try {
      const h = await hashStream(await store.get(e.key));
      bytes += h.size;
      if (h.size !== e.size) bad.push({ key: e.key, problem: `size: manifest says ${e.size} bytes, found ${h.size}` });
      else if (h.sha256 !== e.sha256) bad.push({ key: e.key, problem: `sha256: manifest says ${e.sha256}, found ${h.sha256}` });
    } catch (err) {
      if (err instanceof ObjectNotFoundError) bad.push({ key: e.key, problem: 'missing' });
      else bad.push({ key: e.key, problem: `unreadable: ${oneLine(err)}` });
    }
    done++;
    onObject?.(done, entries.length, bytes);
  });
  bad.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  return { bad, bytes };
}

/**
 * Walks the chain from `stored` back to the newest earlier night with a success record (or to the
 * first night): each `previous` must exist and hash to the recorded SHA-256.
 */
export async function checkChain(store: ObjectStore, stored: StoredManifest, recordsStore: ObjectStore): Promise<{ status: 'ok' | 'first' | 'broken'; linkedTo: string | null; bad: BadObject[] }> {
  const bad: BadObject[] = [];
  let current = stored;
  const earlier = (await listManifestNights(store)).filter((n) => n < stored.manifest.night);
  if (!current.manifest.previous) {
    if (earlier.length) {
      bad.push({ key: stored.key, problem: `chain: previous is null but earlier night ${earlier[earlier.length - 1]} has a manifest` });
      return { status: 'broken', linkedTo: null, bad };
    }
    return { status: 'first', linkedTo: null, bad };
  }
  for (let steps = 0; steps < 1000; steps++) {
    const prev = current.manifest.previous;
    if (!prev) return { status: 'ok', linkedTo: current.manifest.night, bad };
    const prevKey = naming.manifestKey(prev.night);
    let bytes: Buffer;
    try {
      bytes = await store.getBytes(prevKey);
    } catch (err) {
      if (err instanceof ObjectNotFoundError) {
        bad.push({ key: prevKey, problem: `chain: previous manifest missing (named by ${current.key})` });
        return { status: 'broken', linkedTo: null, bad };
      }
      throw err;
    }
    const sha = sha256Hex(bytes);
    if (sha !== prev.sha256) {
      bad.push({ key: prevKey, problem: `chain: previous manifest changed: ${current.key} recorded sha256 ${prev.sha256}, found ${sha}` });
      return { status: 'broken', linkedTo: null, bad };
    }
    // Between the two nights there must be no other manifest (a removed-and-relinked night shows here).
    const between = earlier.filter((n) => n > prev.night && n < current.manifest.night);
    if (between.length) {
      bad.push({ key: current.key, problem: `chain: skips night(s) ${between.join(', ')}` });
      return { status: 'broken', linkedTo: null, bad };
    }
    const record = await readRecord(recordsStore, prev.night);
    if (record && record.result === 'success') {
      if (record.manifestSha256 !== sha) {
        bad.push({ key: prevKey, problem: `chain: manifest differs from the one verified on ${record.verifiedAt}` });
        return { status: 'broken', linkedTo: null, bad };
      }
      return { status: 'ok', linkedTo: prev.night, bad };
    }
    try {
      current = { manifest: parseManifest(bytes, prevKey), sha256: sha, bytes, key: prevKey };
    } catch (err) {
      bad.push({ key: prevKey, problem: `chain: ${oneLine(err)}` });
      return { status: 'broken', linkedTo: null, bad };
    }
  }
  bad.push({ key: stored.key, problem: 'chain: longer than 1000 unverified nights' });
  return { status: 'broken', linkedTo: null, bad };
}

/** Verifies one night; prints ONE `counterparty.verify` line; writes the record. Never throws for a bad object. */
export async function verifyNight(opts: VerifyOptions): Promise<VerifyResult> {
  const store = opts.store;
  const recordsStore = opts.recordsStore ?? store;
  const night = await resolveNight(store, opts.night ?? 'latest', recordsStore);
  let stored: StoredManifest | undefined;
  let bad: BadObject[] = [];
  let bytes = 0;
  let chain: VerificationRecord['chain'] = { previous: null, status: 'broken', linkedTo: null };
  try {
    stored = await readManifest(store, night);
  } catch (err) {
    if (!(err instanceof ManifestError)) throw err;
    bad.push({ key: naming.manifestKey(night), problem: oneLine(err) });
  }
  if (stored) {
    const objects = await checkObjects(store, stored, opts.concurrency ?? 8, opts.onObject);
    const c = await checkChain(store, stored, recordsStore);
    bad = [...objects.bad, ...c.bad];
    bytes = objects.bytes;
    chain = { previous: stored.manifest.previous, status: c.status, linkedTo: c.linkedTo };
  }
  const record: VerificationRecord = {
    formatVersion: 1,
    night,
    result: bad.length === 0 ? 'success' : 'failure',
    verifiedAt: (opts.now ?? new Date()).toISOString(),
    store: store.url,
    manifestSha256: stored?.sha256 ?? null,
    objects: stored?.manifest.entries.length ?? 0,
    bytes,
    chain,
    bad,
  };
  let recordError: string | undefined;
  if (opts.writeRecord !== false) {
    try {
      await recordsStore.put(naming.verificationRecordKey(night), `${JSON.stringify(record, null, 2)}\n`, { contentType: 'application/json' });
    } catch (err) {
      recordError = `could not write ${recordsStore.url}/${naming.verificationRecordKey(night)}: ${oneLine(err)}`;
    }
  }
  const logLine = logEvent('counterparty.verify', {
    result: record.result, night, store: store.url, objects: record.objects, bytes, manifestSha256: record.manifestSha256,
    chain: chain.status, linkedTo: chain.linkedTo, bad, ...(recordError ? { recordError } : {}),
  });
  return { ...record, logLine, recordError };
}
