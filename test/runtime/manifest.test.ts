import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { buildManifest, parseManifest, serializeManifest, listManifestNights, readManifest, type Manifest } from '../../lib/runtime/manifest';
import { ManifestError } from '../../lib/runtime/errors';
import { FileStore } from '../../lib/runtime/stores/file';
import type { HeadInfo, ObjectStore } from '../../lib/runtime/stores/types';
import { sha256Hex } from '../../lib/runtime/util';
import { fullObjectSha256 } from '../../lib/runtime/stores/s3';

const DATASETS = [
  { name: 'recordings', kind: 's3Bucket' },
  { name: 'crm', kind: 'postgres' },
];

let dir: string;
let store: FileStore;
beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'cp-manifest-'));
  store = new FileStore(dir);
  await store.put('objects/recordings/a.wav', Buffer.alloc(3000, 1));
  await store.put('objects/recordings/b/c.wav', 'second');
  await store.put('nights/2026-11-01/crm/dump.pgdump', 'dump-1');
  await store.put('nights/2026-11-02/crm/dump.pgdump', 'dump-2');
  await store.put('unrelated/file', 'not listed');
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

test('lists both prefixes, hashes every object, counts per dataset and in total, and writes the manifest', async () => {
  const r = await buildManifest({ store, night: '2026-11-01', datasets: DATASETS, createdAt: new Date('2026-11-01T02:30:00Z'), system: 'acme-cc' });
  expect(r.key).toBe('nights/2026-11-01/manifest.json');
  expect(r.manifest.entries).toEqual([
    { key: 'nights/2026-11-01/crm/dump.pgdump', size: 6, sha256: sha256Hex('dump-1'), dataset: 'crm' },
    { key: 'objects/recordings/a.wav', size: 3000, sha256: sha256Hex(Buffer.alloc(3000, 1)), dataset: 'recordings' },
    { key: 'objects/recordings/b/c.wav', size: 6, sha256: sha256Hex('second'), dataset: 'recordings' },
  ]);
  expect(r.manifest.datasets).toEqual([
    { name: 'crm', kind: 'postgres', prefix: 'nights/2026-11-01/crm/', objects: 1, bytes: 6 },
    { name: 'recordings', kind: 's3Bucket', prefix: 'objects/recordings/', objects: 2, bytes: 3006 },
  ]);
  expect(r.manifest.totals).toEqual({ objects: 3, bytes: 3012 });
  expect(r.manifest.previous).toBeNull();
  expect(r.hashedObjects).toBe(3);
  const stored = await store.getBytes(r.key);
  expect(stored.equals(r.bytes)).toBe(true);
  expect(sha256Hex(stored)).toBe(r.sha256);
});

test('chains each night to the exact bytes of the previous manifest', async () => {
  const one = await buildManifest({ store, night: '2026-11-01', datasets: DATASETS });
  const two = await buildManifest({ store, night: '2026-11-02', datasets: DATASETS });
  expect(two.manifest.previous).toEqual({ night: '2026-11-01', sha256: one.sha256 });
  expect(await listManifestNights(store)).toEqual(['2026-11-01', '2026-11-02']);
  expect((await readManifest(store, '2026-11-02')).manifest.previous?.sha256).toBe(sha256Hex(await store.getBytes('nights/2026-11-01/manifest.json')));
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
      return h && key.endsWith('a.wav') ? { ...h, sha256: sha256Hex(Buffer.alloc(3000, 1)) } : h;
    },
    get: async (key) => { reads.push(key); return store.get(key); },
    getBytes: store.getBytes.bind(store),
    put: store.put.bind(store),
    locationOf: (k) => k,
  };
  const r = await buildManifest({ store: fake, night: '2026-11-01', datasets: DATASETS, write: false });
  expect(r.reusedChecksums).toBe(1);
  expect(reads).not.toContain('objects/recordings/a.wav');
  expect(reads).toContain('objects/recordings/b/c.wav');
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
      formatVersion: 1, night: '2026-11-02', createdAt: '2026-11-02T02:00:00.000Z', system: null, bucket: 'b', previous: null,
      datasets: [{ name: 'd', kind: 's3Bucket', prefix: 'objects/d/', objects: entries.length, bytes: entries.reduce((n, e) => n + e.size, 0) }],
      totals: { objects: entries.length, bytes: entries.reduce((n, e) => n + e.size, 0) }, entries,
    };
    const bytes = serializeManifest(m);
    expect(parseManifest(bytes)).toEqual(m);
    expect(serializeManifest(parseManifest(bytes)).equals(bytes)).toBe(true);
  }));
});

describe('parseManifest refuses what is not a v1 manifest, naming the problem', () => {
  const good = (): Record<string, unknown> => JSON.parse(serializeManifest({
    formatVersion: 1, night: '2026-11-02', createdAt: '2026-11-02T02:00:00.000Z', system: null, bucket: null, previous: null,
    datasets: [{ name: 'd', kind: 'postgres', prefix: 'nights/2026-11-02/d/', objects: 1, bytes: 5 }],
    totals: { objects: 1, bytes: 5 }, entries: [{ key: 'nights/2026-11-02/d/dump.pgdump', size: 5, sha256: 'a'.repeat(64), dataset: 'd' }],
  }).toString());
  const cases: [string, (m: Record<string, unknown>) => unknown, RegExp][] = [
    ['not JSON', () => '{not json', /not JSON/],
    ['another version', (m) => ({ ...m, formatVersion: 2 }), /unsupported formatVersion 2/],
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
