import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { naming } from '../../lib/core';
import { buildManifest } from '../../lib/runtime/manifest';
import { sha256Hex } from '../../lib/runtime/util';
import { writeNight } from './night-fixture';
import { runJob, setErrorSink, setLogSink } from '../../lib/runtime/log';
import { FileStore } from '../../lib/runtime/stores/file';
import type { ObjectStore } from '../../lib/runtime/stores/types';
import { verifyNight, verifyRun } from '../../lib/runtime/verifier';
import { highWaterWithdrawalKey, latestVerifiedNight, listAttemptKeys, putRecord, readRecord, resolveNight } from '../../lib/runtime/records';
import { RuntimeError } from '../../lib/runtime/errors';

const DS = [{ name: 'recordings', kind: 's3Bucket' }, { name: 'crm', kind: 'postgres' }];
const A_WAV = Buffer.alloc(50_000, 7);
const RECORDINGS = new Map<string, string | Buffer>([['a.wav', A_WAV], ['b.wav', 'bbb']]);
const blobOf = (b: string | Buffer): string => naming.blobKey(sha256Hex(b));
let dir: string;
let store: FileStore;
let lines: string[];
const results = (): Record<string, unknown>[] => lines.map((l) => JSON.parse(l)).filter((l) => l.event === 'counterparty.verify');
const at = (iso: string): Date => new Date(iso);

beforeAll(() => { setErrorSink({ line: () => undefined }); });
beforeEach(async () => {
  lines = [];
  setLogSink({ line: (l) => { lines.push(l); } });
  dir = mkdtempSync(join(tmpdir(), 'cp-verify-'));
  store = new FileStore(join(dir, 'copy'));
  const n1 = await writeNight(store, '2026-11-01', { recordings: RECORDINGS, crm: 'dump-1' });
  await writeNight(store, '2026-11-02', { recordings: RECORDINGS, previous: n1.recordings, crm: 'dump-2' });
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** A store that refuses every write (a records bucket the job may not write to). */
function readOnly(s: ObjectStore): ObjectStore {
  return { url: s.url, list: (p) => s.list(p), head: (k) => s.head(k), get: (k) => s.get(k), getBytes: (k) => s.getBytes(k), locationOf: (k) => s.locationOf(k), put: async (k) => { throw new Error(`403 Forbidden: create-only, ${k}`); } };
}

test('a good night verifies, writes an attempt record and ONE detail line', async () => {
  const r = await verifyNight({ store, night: '2026-11-01' });
  expect(r).toMatchObject({ result: 'success', night: '2026-11-01', bad: [], chain: { status: 'first' }, coverage: { newBlobs: { objects: 2, bytes: 50_003 } } });
  expect(lines).toHaveLength(1);
  expect(JSON.parse(lines[0])).toMatchObject({ event: 'counterparty.verify.night', result: 'success', night: '2026-11-01', bad: [] });
  expect(await readRecord(store, '2026-11-01')).toMatchObject({ result: 'success', manifestSha256: r.manifestSha256, manifestCreatedAt: '2026-11-01T02:00:00.000Z' });
  const second = await verifyNight({ store, night: 'latest' });
  expect(second).toMatchObject({ night: '2026-11-02', result: 'success', chain: { status: 'ok', linkedTo: '2026-11-01' } });
  expect((await latestVerifiedNight(store))?.night).toBe('2026-11-02');
});

test('a run judges every unverified night, oldest first, and writes ONE result line with the data age', async () => {
  const run = await verifyRun({ store, now: at('2026-11-02T08:00:00Z') });
  expect(run.nights.map((n) => [n.night, n.result])).toEqual([['2026-11-01', 'success'], ['2026-11-02', 'success']]);
  expect(results()).toHaveLength(1);
  expect(results()[0]).toMatchObject({ result: 'success', verified: ['2026-11-01', '2026-11-02'], newestVerifiedNight: '2026-11-02', newestVerifiedAgeHours: 6, dataAgeHours: 6, thresholdHours: 30, stale: false });
  // nothing new: nothing re-judged
  expect((await verifyRun({ store, now: at('2026-11-02T09:00:00Z') })).nights).toEqual([]);
});

test('primary dark: re-running verify never makes old data fresh; past rpoHours + grace the line says stale', async () => {
  await verifyRun({ store, now: at('2026-11-02T08:00:00Z') });
  lines = [];
  const dark = await verifyRun({ store, now: at('2026-11-03T09:00:00Z'), freshness: { rpoHours: 24, alarmGraceHours: 6 } });
  expect(dark.nights).toEqual([]);
  expect(results()[0]).toMatchObject({ newestVerifiedNight: '2026-11-02', dataAgeHours: 31, thresholdHours: 30, stale: true });
  // an explicit re-verification of the old night is a new attempt, and still stale
  lines = [];
  await verifyRun({ store, night: '2026-11-02', now: at('2026-11-03T10:00:00Z') });
  expect(results()[0]).toMatchObject({ verified: ['2026-11-02'], dataAgeHours: 32, stale: true });
  expect((await listAttemptKeys(store)).get('2026-11-02')).toHaveLength(2);
});

test('the record write fails (create-only, retention): the run fails with record-write-failed, never success', async () => {
  const code = await runJob('counterparty.verify', async () => ((await verifyRun({ store, recordsStore: readOnly(store) })).result === 'success' ? 0 : 2));
  expect(code).toBe(2);
  expect(results()).toHaveLength(1);
  expect(results()[0]).toMatchObject({ result: 'failure', reason: 'record-write-failed', error: expect.stringContaining('403 Forbidden') });
});

/** A store that refuses to replace any existing key, as a GCS bucket with a retention policy does. */
function createOnly(s: ObjectStore): ObjectStore {
  return { ...readOnly(s), put: async (k, body, o) => { if (await s.head(k)) throw new Error(`412 retention policy: ${k} may not be replaced`); await s.put(k, body, o); } };
}

test('create-only storage with retention (GCS): a failure, then a success, then a re-verification each write their own record', async () => {
  const gcsLike = createOnly(store);
  await store.put('nights/2026-11-02/crm/dump.pgdump', 'dump-X');
  expect((await verifyRun({ store: gcsLike })).reason).toBe('verification-failed');
  await store.put('nights/2026-11-02/crm/dump.pgdump', 'dump-2');
  lines = [];
  expect(await verifyRun({ store: gcsLike })).toMatchObject({ result: 'success' });
  expect(await verifyRun({ store: gcsLike, night: '2026-11-02' })).toMatchObject({ result: 'success' }); // an explicit re-verification
  expect(results().every((r) => r.result === 'success')).toBe(true);
  expect((await listAttemptKeys(store)).get('2026-11-02')).toHaveLength(3);
});

test('verify during copy: missing objects make the night pending, and the next run verifies it with no manual step', async () => {
  rmSync(join(dir, 'copy', blobOf(A_WAV)));
  rmSync(join(dir, 'copy', naming.postgresDumpKey('2026-11-02', 'crm')));
  const first = await verifyRun({ store, now: at('2026-11-02T03:00:00Z') });
  expect(first.result).toBe('success');
  expect(first.nights.map((n) => n.result)).toEqual(['pending', 'pending']);
  expect(results()[0]).toMatchObject({ pending: ['2026-11-01', '2026-11-02'], newestPendingNight: '2026-11-02', newestVerifiedNight: null, stale: true });
  await store.put(blobOf(A_WAV), A_WAV); // the copy finishes
  await store.put(naming.postgresDumpKey('2026-11-02', 'crm'), 'dump-2');
  const second = await verifyRun({ store, now: at('2026-11-02T04:00:00Z') });
  expect(second.nights.map((n) => [n.night, n.result])).toEqual([['2026-11-01', 'success'], ['2026-11-02', 'success']]);
  expect((await latestVerifiedNight(store))?.night).toBe('2026-11-02');
});

test('a later success supersedes an earlier failure (append-only attempts)', async () => {
  const good = await store.getBytes('nights/2026-11-02/crm/dump.pgdump');
  await store.put('nights/2026-11-02/crm/dump.pgdump', 'dump-X'); // same size, wrong bytes: a real failure
  expect(good.toString()).toBe('dump-2');
  expect((await verifyRun({ store })).nights.map((n) => n.result)).toEqual(['success', 'failure']);
  expect(results()[0]).toMatchObject({ result: 'failure', reason: 'verification-failed', failed: ['2026-11-02'] });
  await store.put('nights/2026-11-02/crm/dump.pgdump', good); // repaired copy
  lines = [];
  expect((await verifyRun({ store })).nights.map((n) => [n.night, n.result])).toEqual([['2026-11-02', 'success']]);
  expect((await readRecord(store, '2026-11-02'))?.result).toBe('success');
  expect((await listAttemptKeys(store)).get('2026-11-02')).toHaveLength(2);
});

test('deleted newest manifest: the high-water mark catches the rollback and the run fails', async () => {
  await verifyRun({ store });
  rmSync(join(dir, 'copy', 'nights/2026-11-02/manifest.json'));
  lines = [];
  const r = await verifyRun({ store });
  expect(r).toMatchObject({ result: 'failure', reason: 'rollback' });
  expect(results()[0]).toMatchObject({ result: 'failure', reason: 'rollback', newestSeenNight: '2026-11-02', error: expect.stringContaining('night 2026-11-02 was seen') });
  // it stays an alert on every run until the manifest is back, or an operator withdraws the night (append-only, with a reason)
  expect((await verifyRun({ store })).reason).toBe('rollback');
  await putRecord(store, highWaterWithdrawalKey('2026-11-02'), { night: '2026-11-02', by: 'ops@acme', reason: 'forged manifest, removed after review' });
  lines = [];
  expect(await verifyRun({ store })).toMatchObject({ result: 'success' });
  expect(results()[0]).toMatchObject({ newestSeenNight: '2026-11-01' });
});

test('a replaced newest manifest (self-consistent, relinked, a dataset left out) is caught twice: rollback and incomplete night', async () => {
  await verifyRun({ store });
  // rebuild night 2 without the crm dataset: it links to night 1 correctly and verifies on its own
  rmSync(join(dir, 'copy', 'nights/2026-11-02/manifest.json'));
  await buildManifest({ store, night: '2026-11-02', datasets: [DS[0]] });
  expect((await verifyRun({ store: new FileStore(join(dir, 'copy')), recordsStore: new FileStore(join(dir, 'fresh-records')), night: '2026-11-02' })).nights[0].result).toBe('success');
  lines = [];
  const r = await verifyRun({ store, night: '2026-11-02', datasets: DS });
  expect(r.reason).toBe('rollback');
  expect(r.nights[0]).toMatchObject({ result: 'failure', reason: 'incomplete-night' });
  expect(r.nights[0].bad.map((b) => b.problem)).toContainEqual(expect.stringMatching(/dataset crm \(postgres\) of the plan is not in night 2026-11-02/));
});

test('a dataset missing from a night, or empty, fails; allowEmpty accepts the empty one', async () => {
  const s = new FileStore(join(dir, 'sparse'));
  await writeNight(s, '2026-11-01', { recordings: new Map(), crm: 'dump' }); // recordings: no objects
  const missing = await verifyRun({ store: s, datasets: [...DS, { name: 'contacts', kind: 'dynamoDbTable' }], writeRecord: false });
  expect(missing).toMatchObject({ result: 'failure', reason: 'incomplete-night' });
  const empty = await verifyRun({ store: s, datasets: DS, writeRecord: false });
  expect(empty).toMatchObject({ result: 'failure', reason: 'empty-dataset' });
  expect(empty.nights[0].bad).toContainEqual(expect.objectContaining({ problem: expect.stringMatching(/dataset recordings is empty/) }));
  const allowed = await verifyRun({ store: s, datasets: [{ ...DS[0], allowEmpty: true }, DS[1]], writeRecord: false });
  expect(allowed.result).toBe('success');
});

describe('DynamoDB item count', () => {
  const item = (i: number): Record<string, unknown> => ({ id: { S: `c${i}` } });
  async function night3(itemCount: number, linesInFile: number): Promise<void> {
    const s = new FileStore(join(dir, 'n3'));
    await writeNight(s, '2026-11-02', { recordings: RECORDINGS, crm: 'dump-2' });
    await writeNight(s, '2026-11-03', { recordings: RECORDINGS, crm: 'dump-3', contacts: { items: Array.from({ length: linesInFile }, (_, i) => item(i)), itemCount } });
    store = s;
  }
  const datasets = [...DS, { name: 'contacts', kind: 'dynamoDbTable' }];

  test('matches the export summary', async () => {
    await night3(5, 5);
    const r = await verifyRun({ store, datasets, night: '2026-11-03' });
    expect(r.result).toBe('success');
    expect(r.nights[0].counts?.contacts).toMatchObject({ items: 5, expectedItems: 5 });
  });

  test('fewer items than the export says is a count-mismatch failure', async () => {
    await night3(6, 5);
    const r = await verifyRun({ store, datasets, night: '2026-11-03' });
    expect(r).toMatchObject({ result: 'failure', reason: 'count-mismatch' });
    expect(results()[0]).toMatchObject({ result: 'failure', reason: 'count-mismatch', error: expect.stringContaining('the export says 6 items, its data files hold 5') });
  });
});

test('a crash in listing still writes ONE failure line, then a non-zero exit', async () => {
  const broken: ObjectStore = { ...readOnly(store), url: 's3://broken', list: () => ({ [Symbol.asyncIterator]: () => ({ next: () => Promise.reject(new Error('ListObjectsV2: socket hang up')) }) }) };
  const code = await runJob('counterparty.verify', async () => ((await verifyRun({ store: broken })).result === 'success' ? 0 : 2));
  expect(code).not.toBe(0);
  expect(results()).toEqual([expect.objectContaining({ result: 'failure', reason: 'error', error: expect.stringContaining('socket hang up') })]);
});

test('corrupted and missing objects are each named; the record says failure', async () => {
  await store.put(blobOf(A_WAV), Buffer.alloc(50_000, 8));
  await store.put('nights/2026-11-01/crm/dump.pgdump', 'dump-1-longer');
  rmSync(join(dir, 'copy', blobOf('bbb')));
  const r = await verifyNight({ store, night: '2026-11-01' });
  expect(r.result).toBe('failure');
  expect(r.bad.map((b) => [b.key, b.problem.split(':')[0]])).toEqual([
    [blobOf(A_WAV), 'sha256'],
    [blobOf('bbb'), 'missing'],
    ['nights/2026-11-01/crm/dump.pgdump', 'size'],
  ].sort((a, b) => (a[0] < b[0] ? -1 : 1)));
  expect(JSON.parse(lines[0]).bad).toHaveLength(3);
  expect((await readRecord(store, '2026-11-01'))?.result).toBe('failure');
  await verifyNight({ store, night: '2026-11-02' });
  expect(await latestVerifiedNight(store)).toBeUndefined();
});

test('the chain: an edited earlier manifest breaks it', async () => {
  const key = 'nights/2026-11-01/manifest.json';
  await store.put(key, (await store.getBytes(key)).toString().replace('"system": null', '"system": "edited"'));
  expect((await store.getBytes(key)).toString()).toContain('"system": "edited"');
  const r = await verifyNight({ store, night: '2026-11-02' });
  expect(r.result).toBe('failure');
  expect(r.chain.status).toBe('broken');
  expect(r.bad).toEqual([expect.objectContaining({ key, problem: expect.stringMatching(/^chain: previous manifest changed/) })]);
});

test('the chain: a removed earlier manifest breaks it', async () => {
  rmSync(join(dir, 'copy', 'nights/2026-11-01/manifest.json'));
  const r = await verifyNight({ store, night: '2026-11-02' });
  expect(r.bad).toEqual([expect.objectContaining({ key: 'nights/2026-11-01/manifest.json', problem: expect.stringMatching(/^chain: previous manifest missing/) })]);
});

test('the chain: a manifest changed after it was verified no longer counts, and breaks the next night', async () => {
  await verifyNight({ store, night: '2026-11-01' });
  const key = 'nights/2026-11-01/manifest.json';
  const original = await store.getBytes(key);
  await store.put(key, original.toString().replace('"system": null', '"system": "x"'));
  expect(await latestVerifiedNight(store)).toBeUndefined();
  const r = await verifyNight({ store, night: '2026-11-02' });
  expect(r.result).toBe('failure');
});

test('a corrupt manifest is a failure naming the manifest, not a crash', async () => {
  await store.put('nights/2026-11-02/manifest.json', '{"formatVersion": 2, "night": ');
  const r = await verifyNight({ store, night: '2026-11-02' });
  expect(r.result).toBe('failure');
  expect(r.bad).toEqual([{ key: 'nights/2026-11-02/manifest.json', problem: expect.stringContaining('corrupt manifest') }]);
});

test('records can go to a separate store (CP_RECORDS_STORE)', async () => {
  const records = new FileStore(join(dir, 'records'));
  await verifyNight({ store, recordsStore: records, night: '2026-11-02' });
  expect(await readRecord(records, '2026-11-02')).toMatchObject({ result: 'success' });
  expect(await readRecord(store, '2026-11-02')).toBeUndefined();
});

test('night selectors: unknown nights and bad text are one-line errors', async () => {
  await expect(resolveNight(store, '2026-10-31')).rejects.toBeInstanceOf(RuntimeError);
  await expect(resolveNight(store, '2026-10-31')).rejects.toThrow(/unknown night 2026-10-31.*2026-11-01, 2026-11-02/);
  await expect(resolveNight(store, 'yesterday')).rejects.toThrow(/not a night/);
  await expect(resolveNight(store, 'latest-verified')).rejects.toThrow(/no verified night/);
  expect(await resolveNight(store, 'latest')).toBe('2026-11-02');
  await expect(verifyRun({ store, night: '2026-10-31' })).rejects.toThrow(/unknown night 2026-10-31/);
});
