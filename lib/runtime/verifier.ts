/**
 * The counterparty's verifier. A run judges every night not yet verified, oldest first:
 * each object's presence, size and SHA-256 (streaming), the chain back to the previous verified
 * night, that every dataset of the plan is in the night and not empty, and kind-specific counts
 * (DynamoDB items vs the export's item count, Connect documents vs its index). A night whose
 * objects are still arriving is `pending` (retried next run, never a final failure). Each attempt
 * is an append-only record; the run writes ONE `counterparty.verify` result line with the data age.
 */
import { createGunzip } from 'node:zlib';
import type { Readable } from 'node:stream';
import { naming } from '../core';
import { ManifestError, oneLine } from './errors';
import { JobFailure, logEvent, type Reason } from './log';
import {
  checkBlobs, listBlobs, listNights as listManifestNights, parseManifest, readManifestV2 as readManifest, readNight, scrubPrefixes,
  type ManifestDataset, type ManifestEntry, type StoredManifest,
} from './format';
import {
  highWaterKey, listAttemptKeys, putRecord, readAttempts, readHighWater, readRecord, verificationAttemptKey,
  type AttemptResult, type BadObject, type VerificationRecord,
} from './records';
import { freshnessFields, readFreshness, type FreshnessConfig } from './status';
import { ObjectNotFoundError, type ObjectStore } from './stores/types';
import { HashingPassThrough, mapLimit, sha256Hex } from './util';

/** A dataset of the plan, as `CP_DATASETS` gives it (`name:kind[:allowEmpty]`). */
export interface PlannedDataset {
  readonly name: string;
  readonly kind: string;
  /** An empty dataset is a failure unless this is set (plan field `datasets[].allowEmpty`). @default false */
  readonly allowEmpty?: boolean;
}

export interface VerifyOptions {
  readonly store: ObjectStore;
  /** `YYYY-MM-DD` (re-judge that night only), or `all`/`latest` (every night not yet verified). @default 'all' */
  readonly night?: string;
  /** Where records are read and written. @default the verified store */
  readonly recordsStore?: ObjectStore;
  /** The plan's datasets; every night must hold each of them. @default not checked */
  readonly datasets?: readonly PlannedDataset[];
  /** @default 8 */
  readonly concurrency?: number;
  /** @default true */
  readonly writeRecord?: boolean;
  /** @default now */
  readonly now?: Date;
  /** @default { rpoHours: 24, alarmGraceHours: 6 } */
  readonly freshness?: FreshnessConfig;
  /** Every blob is re-read at least once in this many nights (plan `verification.scrubCycleNights`, `CP_SCRUB_CYCLE_NIGHTS`). @default 30 */
  readonly scrubCycleNights?: number;
  /** Called after each object (for progress). */
  readonly onObject?: (done: number, total: number, bytes: number) => void;
  /** Stops the run between nights (SIGTERM): the run then fails with reason `cancelled`. */
  readonly signal?: AbortSignal;
}

export interface VerifyResult extends VerificationRecord {
  /** The detail line (`counterparty.verify.night`) that was printed. */
  readonly logLine: string;
  /** Set when the record could not be written (the run then fails with record-write-failed). */
  readonly recordError?: string;
}

export interface VerifyRunResult {
  readonly result: 'success' | 'failure';
  readonly reason?: Reason;
  readonly nights: readonly VerifyResult[];
  readonly logLine: string;
  readonly fields: Record<string, unknown>;
}

/** `AWSDynamoDB/<id>/data/<file>.json.gz` (AWS) or `.gz` (moto). */
export const DYNAMO_DATA_FILE_RE = /AWSDynamoDB\/([^/]+)\/data\/[^/]+\.gz$/;

/** Counts the non-empty lines of a gzipped stream (DynamoDB export data files: one item per line). */
function countGzipLines(source: Readable): { done: Promise<number> } {
  const gunzip = createGunzip();
  let lines = 0;
  let lineHasText = false;
  gunzip.on('data', (chunk: Buffer) => {
    for (let i = 0; i < chunk.length; i++) {
      const c = chunk[i];
      if (c === 0x0a) { if (lineHasText) lines++; lineHasText = false; } else if (c !== 0x0d && c !== 0x20) lineHasText = true;
    }
  });
  const done = new Promise<number>((resolve, reject) => {
    gunzip.on('end', () => resolve(lines + (lineHasText ? 1 : 0)));
    gunzip.on('error', (err) => {
      source.unpipe(gunzip);
      source.resume(); // keep hashing the rest
      reject(err);
    });
  });
  done.catch(() => undefined);
  source.pipe(gunzip);
  return { done };
}

/** Checks every entry of a manifest against the store; returns the bad ones (sorted by key) and DynamoDB line counts. */
export async function checkObjects(store: ObjectStore, stored: StoredManifest, concurrency = 8, onObject?: VerifyOptions['onObject']): Promise<{ bad: BadObject[]; bytes: number; lines: Map<string, number> }> {
  const bad: BadObject[] = [];
  const lines = new Map<string, number>();
  let done = 0;
  let bytes = 0;
  const entries = stored.manifest.entries;
  await mapLimit(entries, concurrency, async (e) => {
    try {
      const source = await store.get(e.key);
      const hashing = new HashingPassThrough();
      source.on('error', (err) => hashing.destroy(err));
      const counting = DYNAMO_DATA_FILE_RE.test(e.key) ? countGzipLines(hashing) : undefined;
      source.pipe(hashing);
      if (!counting) hashing.resume();
      await new Promise<void>((resolve, reject) => { hashing.on('end', resolve); hashing.on('error', reject); });
      if (counting) {
        try { lines.set(e.key, await counting.done); } catch (err) { bad.push({ key: e.key, problem: `unreadable: not gzip (${oneLine(err)})` }); }
      }
      bytes += hashing.size;
      if (hashing.size !== e.size) bad.push({ key: e.key, problem: `size: manifest says ${e.size} bytes, found ${hashing.size}` });
      else if (hashing.sha256 !== e.sha256) bad.push({ key: e.key, problem: `sha256: manifest says ${e.sha256}, found ${hashing.sha256}` });
    } catch (err) {
      if (err instanceof ObjectNotFoundError) bad.push({ key: e.key, problem: 'missing' });
      else bad.push({ key: e.key, problem: `unreadable: ${oneLine(err)}` });
    }
    done++;
    onObject?.(done, entries.length, bytes);
  });
  bad.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  return { bad, bytes, lines };
}

/**
 * Format v2 blobs: the night's new blobs (named by its added and changed index entries) and the
 * rotating scrub share (every blob at least once per `scrubCycleNights` nights): work proportional
 * to the night's change, not the estate. Reading the night's change files also checks them.
 */
export async function checkNightBlobs(store: ObjectStore, night: string, scrubCycleNights: number | undefined, concurrency: number): Promise<{ bad: BadObject[]; newBlobs: { objects: number; bytes: number }; scrub: { cycleNights: number; prefixes: string[]; objects: number; bytes: number } }> {
  const bad: BadObject[] = [];
  let newBlobs = { objects: 0, bytes: 0 };
  try {
    const reader = await readNight(store, night);
    const r = await checkBlobs(store, reader.newBlobs(), { concurrency });
    newBlobs = { objects: r.objects, bytes: r.bytes };
    bad.push(...r.bad);
  } catch (err) {
    // an index file not there yet is data still arriving (pending), anything else a failure
    if (err instanceof ObjectNotFoundError) bad.push({ key: err.key, problem: 'missing (index file)' });
    else bad.push({ key: naming.manifestKey(night), problem: `index: ${oneLine(err)}` });
  }
  if (scrubCycleNights === undefined) return { bad, newBlobs, scrub: { cycleNights: 0, prefixes: [], objects: 0, bytes: 0 } };
  const prefixes = scrubPrefixes(night, scrubCycleNights);
  const scrub = await checkBlobs(store, listBlobs(store, prefixes), { concurrency });
  for (const b of scrub.bad) if (!bad.some((x) => x.key === b.key)) bad.push(b);
  return { bad, newBlobs, scrub: { cycleNights: scrubCycleNights, prefixes, objects: scrub.objects, bytes: scrub.bytes } };
}

/** The newest success attempt for a night (any manifest bytes), for the chain check. */
async function newestSuccess(recordsStore: ObjectStore, night: string, keys?: readonly string[]): Promise<VerificationRecord | undefined> {
  const attempts = await readAttempts(recordsStore, night, keys);
  return attempts.filter((a) => a.result === 'success').pop();
}

/**
 * Walks the chain from `stored` back to the newest earlier night with a success record (or to the
 * first night): each `previous` must exist and hash to the recorded SHA-256.
 */
export async function checkChain(store: ObjectStore, stored: StoredManifest, recordsStore: ObjectStore, manifestNights?: readonly string[]): Promise<{ status: 'ok' | 'first' | 'broken'; linkedTo: string | null; bad: BadObject[]; unverified: string[] }> {
  const bad: BadObject[] = [];
  /** Earlier nights the walk passed that have no success record: their new blobs are this night's to check. */
  const unverified: string[] = [];
  let current = stored;
  const earlier = (manifestNights ?? (await listManifestNights(store))).filter((n) => n < stored.manifest.night);
  if (!current.manifest.previous) {
    if (earlier.length) {
      bad.push({ key: stored.key, problem: `chain: previous is null but earlier night ${earlier[earlier.length - 1]} has a manifest` });
      return { status: 'broken', linkedTo: null, bad, unverified };
    }
    return { status: 'first', linkedTo: null, bad, unverified };
  }
  const attempts = await listAttemptKeys(recordsStore);
  for (let steps = 0; steps < 1000; steps++) {
    const prev = current.manifest.previous;
    if (!prev) return { status: 'ok', linkedTo: current.manifest.night, bad, unverified };
    const prevKey = naming.manifestKey(prev.night);
    let bytes: Buffer;
    try {
      bytes = await store.getBytes(prevKey);
    } catch (err) {
      if (err instanceof ObjectNotFoundError) {
        bad.push({ key: prevKey, problem: `chain: previous manifest missing (named by ${current.key})` });
        return { status: 'broken', linkedTo: null, bad, unverified };
      }
      throw err;
    }
    const sha = sha256Hex(bytes);
    if (sha !== prev.sha256) {
      bad.push({ key: prevKey, problem: `chain: previous manifest changed: ${current.key} recorded sha256 ${prev.sha256}, found ${sha}` });
      return { status: 'broken', linkedTo: null, bad, unverified };
    }
    // Between the two nights there must be no other manifest (a removed-and-relinked night shows here).
    const between = earlier.filter((n) => n > prev.night && n < current.manifest.night);
    if (between.length) {
      bad.push({ key: current.key, problem: `chain: skips night(s) ${between.join(', ')}` });
      return { status: 'broken', linkedTo: null, bad, unverified };
    }
    const record = await newestSuccess(recordsStore, prev.night, attempts.get(prev.night));
    if (record) {
      if (record.manifestSha256 !== sha) {
        bad.push({ key: prevKey, problem: `chain: manifest differs from the one verified on ${record.verifiedAt}` });
        return { status: 'broken', linkedTo: null, bad, unverified };
      }
      return { status: 'ok', linkedTo: prev.night, bad, unverified };
    }
    unverified.push(prev.night);
    try {
      current = { manifest: parseManifest(bytes, prevKey), sha256: sha, bytes, key: prevKey };
    } catch (err) {
      bad.push({ key: prevKey, problem: `chain: ${oneLine(err)}` });
      return { status: 'broken', linkedTo: null, bad, unverified };
    }
  }
  bad.push({ key: stored.key, problem: 'chain: longer than 1000 unverified nights' });
  return { status: 'broken', linkedTo: null, bad, unverified };
}

/** The item count a DynamoDB export states: AWS's `manifest-summary.json` `itemCount`, or the exporter's `export-summary.json`. */
async function dynamoItemCount(store: ObjectStore, entries: readonly ManifestEntry[], exportId: string | undefined): Promise<number | undefined> {
  const summary = entries.find((e) => exportId && e.key.endsWith(`AWSDynamoDB/${exportId}/manifest-summary.json`))
    ?? entries.find((e) => e.key.endsWith('/export-summary.json'));
  if (!summary) return undefined;
  const raw = JSON.parse((await store.getBytes(summary.key)).toString('utf8')) as { itemCount?: unknown; ItemCount?: unknown };
  const n = Number(raw.itemCount ?? raw.ItemCount);
  return Number.isSafeInteger(n) && n >= 0 ? n : undefined;
}

/** The data files of the newest completed DynamoDB export in a dataset's entries. */
export function dynamoExportFiles(entries: readonly ManifestEntry[]): { id: string | undefined; files: ManifestEntry[] } {
  const byExport = new Map<string, ManifestEntry[]>();
  for (const e of entries) {
    const m = DYNAMO_DATA_FILE_RE.exec(e.key);
    if (m) byExport.set(m[1], [...(byExport.get(m[1]) ?? []), e]);
  }
  if (!byExport.size) return { id: undefined, files: [] };
  const completed = [...byExport.keys()].filter((id) => entries.some((e) => e.key.endsWith(`AWSDynamoDB/${id}/manifest-summary.json`)));
  const id = (completed.length ? completed : [...byExport.keys()]).sort().pop()!;
  return { id, files: byExport.get(id)! };
}

interface DatasetProblem { readonly reason: Reason; readonly bad: BadObject }

/**
 * Completeness and kind-specific counts. Reads only small objects (summaries, the Connect index);
 * `lines` are the DynamoDB data-file line counts from {@link checkObjects}.
 */
export async function checkDatasets(store: ObjectStore, stored: StoredManifest, planned: readonly PlannedDataset[] | undefined, lines: Map<string, number>): Promise<{ problems: DatasetProblem[]; counts: Record<string, Record<string, number>> }> {
  const { manifest } = stored;
  const problems: DatasetProblem[] = [];
  const counts: Record<string, Record<string, number>> = {};
  const inNight = new Map(manifest.datasets.map((d) => [d.name, d]));
  const specs: PlannedDataset[] = planned ? [...planned] : manifest.datasets.map((d) => ({ name: d.name, kind: d.kind }));
  for (const spec of specs) {
    const ds = inNight.get(spec.name);
    if (!ds) {
      problems.push({ reason: 'incomplete-night', bad: { key: stored.key, problem: `dataset ${spec.name} (${spec.kind}) of the plan is not in night ${manifest.night}` } });
      continue;
    }
    if (ds.kind !== spec.kind) {
      problems.push({ reason: 'incomplete-night', bad: { key: stored.key, problem: `dataset ${spec.name} is ${ds.kind} in the night, ${spec.kind} in the plan` } });
      continue;
    }
    if (ds.status !== 'ok') {
      problems.push({ reason: 'incomplete-night', bad: { key: stored.key, problem: `dataset ${spec.name}: its export failed on the primary that night (${ds.reason ?? 'no reason given'})` } });
      continue;
    }
    const entries = manifest.entries.filter((e) => e.dataset === ds.name);
    const c = await datasetCounts(store, manifest.night, ds, entries, lines);
    counts[ds.name] = c.counts;
    for (const p of c.problems) problems.push({ reason: p.reason, bad: { key: p.key ?? ds.prefix, problem: `dataset ${ds.name}: ${p.problem}` } });
    if (c.empty && !spec.allowEmpty) problems.push({ reason: 'empty-dataset', bad: { key: ds.prefix, problem: `dataset ${ds.name} is empty in night ${manifest.night} (the plan does not set allowEmpty)` } });
  }
  return { problems, counts };
}

async function datasetCounts(store: ObjectStore, night: string, ds: ManifestDataset, entries: ManifestEntry[], lines: Map<string, number>): Promise<{ counts: Record<string, number>; empty: boolean; problems: { reason: Reason; key?: string; problem: string }[] }> {
  const problems: { reason: Reason; key?: string; problem: string }[] = [];
  switch (ds.kind) {
    case 'dynamoDbTable': {
      const { id, files } = dynamoExportFiles(entries);
      const items = files.reduce((n, f) => n + (lines.get(f.key) ?? 0), 0);
      let expected: number | undefined = ds.summary.items;
      try {
        expected ??= await dynamoItemCount(store, entries, id);
      } catch (err) {
        problems.push({ reason: 'count-mismatch', problem: `export summary unreadable: ${oneLine(err)}` });
      }
      if (expected === undefined && !problems.length) problems.push({ reason: 'count-mismatch', problem: 'no export item count (AWSDynamoDB/<id>/manifest-summary.json or export-summary.json) to check the items against' });
      else if (expected !== undefined && files.every((f) => lines.has(f.key)) && items !== expected) problems.push({ reason: 'count-mismatch', problem: `the export says ${expected} items, its data files hold ${items}` });
      return { counts: { items, expectedItems: expected ?? -1, dataFiles: files.length }, empty: (expected ?? items) === 0, problems };
    }
    case 'postgres': {
      const dumpKey = naming.postgresDumpKey(night, ds.name);
      const dump = entries.find((e) => e.key === dumpKey);
      if (!dump) problems.push({ reason: 'incomplete-night', key: dumpKey, problem: `no ${dumpKey} in the manifest` });
      const toc = ds.summary.tocEntries;
      if (toc === 0) problems.push({ reason: 'count-mismatch', key: dumpKey, problem: 'the dump\'s table of contents has no entries' });
      return { counts: { dumpBytes: dump?.size ?? 0, ...(toc !== undefined ? { tocEntries: toc } : {}) }, empty: !dump || dump.size === 0, problems };
    }
    case 'connectInstance': {
      const index = entries.find((e) => e.key === `${ds.prefix}index.json`);
      if (!index) {
        problems.push({ reason: 'incomplete-night', key: `${ds.prefix}index.json`, problem: 'no index.json' });
        return { counts: { documents: 0 }, empty: true, problems };
      }
      let files: { key: string; sha256: string }[] = [];
      try {
        files = (JSON.parse((await store.getBytes(index.key)).toString('utf8')) as { files?: { key: string; sha256: string }[] }).files ?? [];
      } catch (err) {
        problems.push({ reason: 'count-mismatch', key: index.key, problem: `index unreadable: ${oneLine(err)}` });
      }
      const byKey = new Map(entries.map((e) => [e.key, e]));
      const missing = files.filter((f) => byKey.get(`${ds.prefix}${f.key}`)?.sha256 !== f.sha256);
      if (missing.length) problems.push({ reason: 'count-mismatch', key: index.key, problem: `${missing.length} of the ${files.length} files its index lists are not in the manifest with that SHA-256 (first: ${missing[0].key})` });
      const documents = files.filter((f) => f.key.endsWith('.json') && !f.key.includes('/')).length;
      return { counts: { documents, files: files.length }, empty: files.length === 0, problems };
    }
    case 's3Bucket':
    default: {
      // the recordings index: the night's change run must hold exactly added + changed + removed records
      const night = ds.index?.night;
      const changes = (ds.summary.added ?? 0) + (ds.summary.changed ?? 0) + (ds.summary.removed ?? 0);
      if (night && 'added' in ds.summary && night.records !== changes) problems.push({ reason: 'count-mismatch', problem: `the index of the night holds ${night.records} change records, the summary says ${changes}` });
      if (!ds.index) problems.push({ reason: 'incomplete-night', problem: 'no index' });
      return { counts: { objects: ds.objects, changeRecords: night?.records ?? 0 }, empty: ds.objects === 0, problems };
    }
  }
}

const REASON_ORDER: readonly Reason[] = ['incomplete-night', 'empty-dataset', 'count-mismatch', 'verification-failed'];

/** Judges one night; writes its attempt record and ONE `counterparty.verify.night` detail line. Never throws for a bad object. */
export async function verifyNight(opts: VerifyOptions & { manifestNights?: readonly string[] }): Promise<VerifyResult> {
  const store = opts.store;
  const recordsStore = opts.recordsStore ?? store;
  const night = opts.night && naming.isNightId(opts.night) ? opts.night : (await listManifestNights(store)).pop();
  if (!night) throw new JobFailure('error', `${store.url}: no night has a manifest (nothing under nights/*/manifest.json)`, {}, 1);
  let stored: StoredManifest | undefined;
  let bad: BadObject[] = [];
  let bytes = 0;
  let reason: Reason | undefined;
  let counts: VerificationRecord['counts'];
  let chain: VerificationRecord['chain'] = { previous: null, status: 'broken', linkedTo: null };
  try {
    stored = await readManifest(store, night);
  } catch (err) {
    if (!(err instanceof ManifestError) && !(err instanceof ObjectNotFoundError)) throw err;
    bad.push({ key: naming.manifestKey(night), problem: err instanceof ObjectNotFoundError ? 'missing' : oneLine(err) });
  }
  let result: AttemptResult = 'failure';
  let coverage: VerificationRecord['coverage'];
  if (stored) {
    const objects = await checkObjects(store, stored, opts.concurrency ?? 8, opts.onObject);
    const blobs = await checkNightBlobs(store, night, opts.scrubCycleNights ?? 30, opts.concurrency ?? 8);
    const c = await checkChain(store, stored, recordsStore, opts.manifestNights);
    // this night's view also holds the blobs earlier, unverified nights added: check those too
    for (const earlier of c.unverified) {
      const e = await checkNightBlobs(store, earlier, undefined, opts.concurrency ?? 8);
      for (const b of e.bad) if (!blobs.bad.some((x) => x.key === b.key)) blobs.bad.push({ key: b.key, problem: `${b.problem} (added by unverified night ${earlier})` });
      blobs.newBlobs.objects += e.newBlobs.objects;
      blobs.newBlobs.bytes += e.newBlobs.bytes;
    }
    const d = await checkDatasets(store, stored, opts.datasets, objects.lines);
    counts = d.counts;
    bytes = objects.bytes + blobs.newBlobs.bytes + blobs.scrub.bytes;
    coverage = { nightFiles: { objects: stored.manifest.entries.length, bytes: objects.bytes }, newBlobs: blobs.newBlobs, scrub: blobs.scrub };
    chain = { previous: stored.manifest.previous, status: c.status, linkedTo: c.linkedTo };
    const objectBad = [...objects.bad, ...blobs.bad].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    const stillArriving = objectBad.length > 0 && objectBad.every((b) => b.problem.startsWith('missing'));
    bad = [...objectBad, ...c.bad, ...d.problems.map((p) => p.bad)];
    if (bad.length === 0) result = 'success';
    else if (stillArriving && c.bad.length === 0 && d.problems.every((p) => p.reason === 'count-mismatch' || p.reason === 'empty-dataset')) result = 'pending';
    else {
      const reasons = d.problems.map((p) => p.reason);
      reason = REASON_ORDER.find((r) => reasons.includes(r)) ?? 'verification-failed';
    }
  } else {
    reason = 'verification-failed';
  }
  const record: VerificationRecord = {
    formatVersion: 2,
    night,
    result,
    ...(reason ? { reason } : {}),
    verifiedAt: (opts.now ?? new Date()).toISOString(),
    store: store.url,
    manifestSha256: stored?.sha256 ?? null,
    manifestCreatedAt: stored?.manifest.createdAt ?? null,
    objects: stored?.manifest.entries.length ?? 0,
    bytes,
    chain,
    ...(counts ? { counts } : {}),
    ...(coverage ? { coverage } : {}),
    bad,
  };
  let recordError: string | undefined;
  if (opts.writeRecord !== false) {
    const key = verificationAttemptKey(night, opts.now ?? new Date());
    try {
      await putRecord(recordsStore, key, record);
    } catch (err) {
      recordError = `could not write ${recordsStore.url}/${key}: ${oneLine(err)}`;
    }
  }
  const logLine = logEvent('counterparty.verify.night', {
    result, ...(reason ? { reason } : {}), night, store: store.url, objects: record.objects, bytes, manifestSha256: record.manifestSha256,
    manifestCreatedAt: record.manifestCreatedAt, chain: chain.status, linkedTo: chain.linkedTo, counts, coverage, bad: bad.slice(0, 50), badCount: bad.length,
    ...(recordError ? { recordError } : {}),
  });
  return { ...record, logLine, recordError };
}

/**
 * The nights a run judges: every night with a manifest that is not verified, oldest first, except
 * nights older than the newest verified one whose last attempt already failed (judged; they stay
 * failed in the records and in `status`).
 */
export async function nightsToJudge(store: ObjectStore, recordsStore: ObjectStore, manifestNights: readonly string[]): Promise<string[]> {
  const attempts = await listAttemptKeys(recordsStore);
  const status = new Map<string, AttemptResult | undefined>();
  let newestVerified: string | undefined;
  for (const night of manifestNights) {
    const keys = attempts.get(night);
    if (!keys) { status.set(night, undefined); continue; }
    let sha: string | undefined;
    try { sha = (await readManifest(store, night)).sha256; } catch { sha = undefined; }
    const rec = sha ? await readRecord(recordsStore, night, sha, keys) : undefined;
    status.set(night, rec?.result);
    if (rec?.result === 'success') newestVerified = night;
  }
  return manifestNights.filter((n) => {
    const s = status.get(n);
    if (s === 'success') return false;
    if (s === 'failure' && newestVerified && n < newestVerified) return false;
    return true;
  });
}

/**
 * One verify run: rollback check against the high-water mark, every night not yet verified (or the
 * one night asked for), then ONE `counterparty.verify` result line with the data age. Throws
 * {@link JobFailure} only for what `runJob` should report (the line is already written then).
 */
export async function verifyRun(opts: VerifyOptions): Promise<VerifyRunResult> {
  const store = opts.store;
  const recordsStore = opts.recordsStore ?? store;
  const now = opts.now ?? new Date();
  const cfg = opts.freshness ?? { rpoHours: 24, alarmGraceHours: 6 };
  const manifestNights = await listManifestNights(store);
  const problems: { reason: Reason; error: string }[] = [];
  const newest = manifestNights[manifestNights.length - 1];
  const highWater = await readHighWater(recordsStore);
  if (highWater && (!newest || newest < highWater.night)) {
    problems.push({ reason: 'rollback', error: `night ${highWater.night} was seen on ${highWater.seenAt} but its manifest is gone; the newest manifest is now ${newest ?? 'none'} (the head of the chain was deleted or replaced)` });
  } else if (highWater && newest === highWater.night && highWater.manifestSha256) {
    const current = await readManifest(store, newest).catch(() => undefined);
    if (current && current.sha256 !== highWater.manifestSha256) problems.push({ reason: 'rollback', error: `the manifest of night ${newest} was replaced after it was seen (sha256 ${highWater.manifestSha256.slice(0, 12)}… then, ${current.sha256.slice(0, 12)}… now)` });
  }
  if (newest && (!highWater || newest > highWater.night) && opts.writeRecord !== false && !(await recordsStore.head(highWaterKey(newest)))) {
    const m = await readManifest(store, newest).catch(() => undefined);
    try {
      await putRecord(recordsStore, highWaterKey(newest), { night: newest, manifestSha256: m?.sha256 ?? '', manifestCreatedAt: m?.manifest.createdAt ?? '', seenAt: now.toISOString() });
    } catch (err) {
      problems.push({ reason: 'record-write-failed', error: `could not write the high-water mark ${highWaterKey(newest)}: ${oneLine(err)}` });
    }
  }
  const single = opts.night && naming.isNightId(opts.night) ? opts.night : undefined;
  if (single && !manifestNights.includes(single)) {
    throw new JobFailure('error', `${store.url}: unknown night ${single}: no ${naming.manifestKey(single)} (nights with a manifest: ${manifestNights.length ? manifestNights.slice(-5).join(', ') : 'none'})`, {}, 1);
  }
  if (opts.night && !single && opts.night !== 'latest' && opts.night !== 'all') {
    throw new JobFailure('error', `not a night: ${JSON.stringify(opts.night)} (use YYYY-MM-DD, or all)`, {}, 1);
  }
  if (!manifestNights.length && !highWater) throw new JobFailure('error', `${store.url}: no night has a manifest (nothing under nights/*/manifest.json)`, {}, 1);
  const toJudge = single ? [single] : await nightsToJudge(store, recordsStore, manifestNights);
  const judged: VerifyResult[] = [];
  for (const night of toJudge) {
    opts.signal?.throwIfAborted();
    const r = await verifyNight({ ...opts, night, now, manifestNights });
    judged.push(r);
    if (r.recordError) problems.push({ reason: 'record-write-failed', error: r.recordError });
    if (r.result === 'failure') problems.push({ reason: (r.reason as Reason) ?? 'verification-failed', error: `night ${night}: ${r.bad.slice(0, 3).map((b) => `${b.key}: ${b.problem}`).join('; ')}${r.bad.length > 3 ? ` (+${r.bad.length - 3} more)` : ''}` });
  }
  const fresh = freshnessFields(await readFreshness(store, recordsStore, cfg, now), 'verified');
  const order: Reason[] = ['rollback', 'record-write-failed', 'incomplete-night', 'empty-dataset', 'count-mismatch', 'verification-failed'];
  const first = problems.length ? order.map((r) => problems.find((p) => p.reason === r)).find(Boolean) ?? problems[0] : undefined;
  const fields: Record<string, unknown> = {
    store: store.url,
    nights: judged.map((j) => ({ night: j.night, result: j.result, ...(j.reason ? { reason: j.reason } : {}) })),
    verified: judged.filter((j) => j.result === 'success').map((j) => j.night),
    failed: judged.filter((j) => j.result === 'failure').map((j) => j.night),
    pending: judged.filter((j) => j.result === 'pending').map((j) => j.night),
    datasetsChecked: Boolean(opts.datasets),
    ...fresh,
  };
  if (first) {
    const logLine = logEvent('counterparty.verify', { result: 'failure', reason: first.reason, error: problems.map((p) => p.error).join(' | '), ...fields });
    return { result: 'failure', reason: first.reason, nights: judged, logLine, fields };
  }
  const logLine = logEvent('counterparty.verify', { result: 'success', ...fields });
  return { result: 'success', nights: judged, logLine, fields };
}
