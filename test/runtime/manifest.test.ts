import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { buildManifest, parseManifest, serializeManifest, listManifestNights, type Manifest } from '../../lib/runtime/manifest';
import { ManifestError } from '../../lib/runtime/errors';
import { readManifestV2 } from '../../lib/runtime/format';
import { FileStore } from '../../lib/runtime/stores/file';
import type { HeadInfo, ObjectStore } from '../../lib/runtime/stores/types';
import { sha256Hex } from '../../lib/runtime/util';
import { fullObjectSha256 } from '../../lib/runtime/stores/s3';

const DATASETS = [
  { name: 'recordings', kind: 's3Bucket' },
  { name: 'crm', kind: 'postgres' },
];

/** A minimal index summary naming one file as the night's checkpoint and change run. */
function summary(night: string, key: string, body: Buffer): string {
  const file = { key, sha256: sha256Hex(body), size: body.length, records: 0 };
  const run = { night, files: [file], records: 0 };
  return JSON.stringify({ formatVersion: 2, night, dataset: 'recordings', records: 0, bytes: 0, index: {
    checkpoint: run, since: [], night: { ...run, added: 0, changed: 0, removed: 0, newBlobs: 0, newBlobBytes: 0, copiedBlobs: 0, copiedBytes: 0 } } });
}

let dir: string;
let store: FileStore;
beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'cp-manifest-'));
  store = new FileStore(dir);
  await store.put('nights/2026-11-01/recordings/index/run-1/changes-00000.ndjson.gz', Buffer.alloc(3000, 1));
  await store.put('nights/2026-11-01/recordings/index/run-1/summary.json', summary('2026-11-01', 'nights/2026-11-01/recordings/index/run-1/changes-00000.ndjson.gz', Buffer.alloc(3000, 1)));
  await store.put('nights/2026-11-01/recordings/index/run-0/changes-00000.ndjson.gz', 'an abandoned attempt (no summary): not listed');
  await store.put('nights/2026-11-02/recordings/index/run-1/b/c.wav', 'second');
  await store.put('nights/2026-11-02/recordings/index/run-1/summary.json', summary('2026-11-02', 'nights/2026-11-02/recordings/index/run-1/b/c.wav', Buffer.from('second')));
  await store.put('nights/2026-11-01/crm/dump.pgdump', 'dump-1');
  await store.put('nights/2026-11-02/crm/dump.pgdump', 'dump-2');
  await store.put('unrelated/file', 'not listed');
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

test('lists the night\'s own files (exports, the newest complete index run), hashes them, and writes the manifest', async () => {
  const r = await buildManifest({ store, night: '2026-11-01', datasets: DATASETS, createdAt: new Date('2026-11-01T02:30:00Z'), system: 'acme-cc' });
  expect(r.key).toBe('nights/2026-11-01/manifest.json');
  const summaryBytes = await store.getBytes('nights/2026-11-01/recordings/index/run-1/summary.json');
  expect(r.manifest.entries).toEqual([
    { key: 'nights/2026-11-01/crm/dump.pgdump', size: 6, sha256: sha256Hex('dump-1'), dataset: 'crm' },
    { key: 'nights/2026-11-01/recordings/index/run-1/changes-00000.ndjson.gz', size: 3000, sha256: sha256Hex(Buffer.alloc(3000, 1)), dataset: 'recordings' },
    { key: 'nights/2026-11-01/recordings/index/run-1/summary.json', size: summaryBytes.length, sha256: sha256Hex(summaryBytes), dataset: 'recordings' },
  ]);
  expect(r.manifest.datasets).toEqual([
    { name: 'crm', kind: 'postgres', status: 'ok', reason: null, prefix: 'nights/2026-11-01/crm/', objects: 1, bytes: 6, summary: {}, index: null },
    expect.objectContaining({ name: 'recordings', kind: 's3Bucket', status: 'ok', reason: null, prefix: 'nights/2026-11-01/recordings/', summary: { added: 0, changed: 0, removed: 0 } }),
  ]);
  expect(r.manifest.formatVersion).toBe(2);
  expect(r.manifest.previous).toBeNull();
  expect(r.hashedObjects).toBe(3);
  const stored = await store.getBytes(r.key);
  expect(stored.equals(r.bytes)).toBe(true);
  expect(sha256Hex(stored)).toBe(r.sha256);
});

test('marks a dataset failed, with the reason, when its export did not complete or the caller says so', async () => {
  const r = await buildManifest({ store, night: '2026-11-03', datasets: DATASETS, write: false });
  expect(r.manifest.datasets.map((d) => [d.name, d.status, d.reason])).toEqual([
    ['crm', 'failed', 'no export files under nights/2026-11-03/crm/'],
    ['recordings', 'failed', expect.stringContaining('sync-objects wrote no complete index')],
  ]);
  const c = await buildManifest({ store, night: '2026-11-01', datasets: DATASETS, failures: { crm: 'pg_dump exited 1' }, write: false });
  expect(c.manifest.datasets[0]).toMatchObject({ name: 'crm', status: 'failed', reason: 'pg_dump exited 1', objects: 0 });
});

test('chains each night to the exact bytes of the previous manifest', async () => {
  const one = await buildManifest({ store, night: '2026-11-01', datasets: DATASETS });
  const two = await buildManifest({ store, night: '2026-11-02', datasets: DATASETS });
  expect(two.manifest.previous).toEqual({ night: '2026-11-01', sha256: one.sha256 });
  expect(await listManifestNights(store)).toEqual(['2026-11-01', '2026-11-02']);
  expect((await readManifestV2(store, '2026-11-02')).manifest.previous?.sha256).toBe(sha256Hex(await store.getBytes('nights/2026-11-01/manifest.json')));
});

test('same input gives the same bytes', async () => {
  const at = new Date('2026-11-01T02:30:00Z');
  const a = await buildManifest({ store, night: '2026-11-01', datasets: DATASETS, createdAt: at, write: false });
  const b = await buildManifest({ store, night: '2026-11-01', datasets: [...DATASETS].reverse(), createdAt: at, write: false, concurrency: 1 });
  expect(b.bytes.equals(a.bytes)).toBe(true);
});

test('reuses a store-provided full-object SHA-256 instead of reading the object', async () => {
  const reads: string[] = [];
  const fake: ObjectStore = {
    url: 's3://fake',
    list: store.list.bind(store),
    head: async (key): Promise<HeadInfo | undefined> => {
      const h = await store.head(key);
      return h && key.endsWith('changes-00000.ndjson.gz') ? { ...h, sha256: sha256Hex(Buffer.alloc(3000, 1)) } : h;
    },
    get: async (key) => { reads.push(key); return store.get(key); },
    getBytes: store.getBytes.bind(store),
    put: store.put.bind(store),
    locationOf: (k) => k,
  };
  const r = await buildManifest({ store: fake, night: '2026-11-01', datasets: DATASETS, write: false });
  expect(r.reusedChecksums).toBe(1);
  expect(reads).not.toContain('nights/2026-11-01/recordings/index/run-1/changes-00000.ndjson.gz');
  expect(reads).toContain('nights/2026-11-01/crm/dump.pgdump');
});

test('S3 checksums: only full-object SHA-256 values count, never composite multipart ones', () => {
  const b64 = Buffer.from(sha256Hex('x'), 'hex').toString('base64');
  expect(fullObjectSha256(b64, undefined)).toBe(sha256Hex('x'));
  expect(fullObjectSha256(b64, 'FULL_OBJECT')).toBe(sha256Hex('x'));
  expect(fullObjectSha256(b64, 'COMPOSITE')).toBeUndefined();
  expect(fullObjectSha256(`${b64}-3`, undefined)).toBeUndefined();
  expect(fullObjectSha256(undefined, undefined)).toBeUndefined();
});

const entryArb = fc.record({
  key: fc.stringMatching(/^[a-z0-9/._-]{1,30}$/),
  size: fc.nat({ max: 1e9 }),
  sha256: fc.stringMatching(/^[0-9a-f]{64}$/),
});

test('property: serialize → parse → serialize gives back the same bytes', () => {
  fc.assert(fc.property(fc.uniqueArray(entryArb, { selector: (e) => e.key, maxLength: 20 }), (raw) => {
    const entries = [...raw].sort((a, b) => Buffer.compare(Buffer.from(a.key), Buffer.from(b.key))).map((e) => ({ ...e, dataset: 'd' }));
    const m: Manifest = {
      formatVersion: 2, night: '2026-11-02', createdAt: '2026-11-02T02:00:00.000Z', system: null, bucket: 'b', previous: null,
      datasets: [{ name: 'd', kind: 'postgres', status: 'ok', reason: null, prefix: 'nights/2026-11-02/d/', objects: entries.length, bytes: entries.reduce((n, e) => n + e.size, 0), summary: { tocEntries: 3 }, index: null }],
      totals: { objects: entries.length, bytes: entries.reduce((n, e) => n + e.size, 0) }, entries,
    };
    const bytes = serializeManifest(m);
    expect(parseManifest(bytes)).toEqual(m);
    expect(serializeManifest(parseManifest(bytes)).equals(bytes)).toBe(true);
  }));
});

describe('parseManifest refuses what is not a v2 manifest, naming the problem', () => {
  const good = (): Record<string, unknown> => JSON.parse(serializeManifest({
    formatVersion: 2, night: '2026-11-02', createdAt: '2026-11-02T02:00:00.000Z', system: null, bucket: null, previous: null,
    datasets: [{ name: 'd', kind: 'postgres', status: 'ok', reason: null, prefix: 'nights/2026-11-02/d/', objects: 1, bytes: 5, summary: {}, index: null }],
    totals: { objects: 1, bytes: 5 }, entries: [{ key: 'nights/2026-11-02/d/dump.pgdump', size: 5, sha256: 'a'.repeat(64), dataset: 'd' }],
  }).toString());
  const cases: [string, (m: Record<string, unknown>) => unknown, RegExp][] = [
    ['not JSON', () => '{not json', /not JSON/],
    ['format v1', (m) => ({ ...m, formatVersion: 1 }), /formatVersion 1 is not read by this build/],
    ['a later version', (m) => ({ ...m, formatVersion: 3 }), /unsupported formatVersion 3/],
    ['a failed dataset without a reason', (m) => ({ ...m, datasets: [{ ...(m.datasets as object[])[0], status: 'failed' }] }), /needs a reason/],
    ['an s3Bucket dataset without an index', (m) => ({ ...m, datasets: [{ ...(m.datasets as object[])[0], kind: 's3Bucket' }] }), /needs an index/],
    ['a bad night', (m) => ({ ...m, night: '2026-13-40' }), /night/],
    ['totals that do not add up', (m) => ({ ...m, totals: { objects: 1, bytes: 6 } }), /totals say/],
    ['a bad sha256', (m) => ({ ...m, entries: [{ ...(m.entries as object[])[0], sha256: 'xyz' }] }), /bad entry/],
    ['an unknown dataset', (m) => ({ ...m, entries: [{ ...(m.entries as object[])[0], dataset: 'nope' }] }), /unknown dataset/],
    ['a previous night after this one', (m) => ({ ...m, previous: { night: '2026-11-03', sha256: 'b'.repeat(64) } }), /is not before/],
  ];
  test.each(cases)('%s', (_name, edit, message) => {
    const value = edit(good());
    const text = typeof value === 'string' ? value : JSON.stringify(value);
    expect(() => parseManifest(text, 'm.json')).toThrow(ManifestError);
    expect(() => parseManifest(text, 'm.json')).toThrow(message);
  });
  test('unsorted entries', () => {
    const m = good();
    const e = (m.entries as Record<string, unknown>[])[0];
    m.entries = [{ ...e, key: 'nights/2026-11-02/d/z' }, { ...e, key: 'nights/2026-11-02/d/a' }];
    m.totals = { objects: 2, bytes: 10 };
    (m.datasets as Record<string, unknown>[])[0].objects = 2;
    (m.datasets as Record<string, unknown>[])[0].bytes = 10;
    expect(() => parseManifest(JSON.stringify(m))).toThrow(/not sorted/);
  });
});
