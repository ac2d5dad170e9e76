/**
 * Format v2 against a local folder store: index runs, any night's view after later changes,
 * the night's changes and new blobs, scrub rotation, key order, tamper detection, v1 refusal.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { naming } from '../../lib/core';
import {
  buildNightIndex, checkNight, compareUtf8, inScrubSubset, parseManifest, readNight, scrubPrefixes, scrubSubset,
  type DatasetIndex, type IndexEntry, type ListedObject,
} from '../../lib/runtime/format';
import { buildManifest } from '../../lib/runtime/manifest';
import { FileStore } from '../../lib/runtime/stores/file';
import { sha256Hex } from '../../lib/runtime/util';

const ODD_KEYS = ['folder/', 'ünïcødé/録音.wav', 'back\\slash.wav', 'a/../b.wav', 'with space .wav', `long/${'k'.repeat(1019)}`];

let dir: string;
let store: FileStore;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'cp-format-'));
  store = new FileStore(dir);
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

type Source = Map<string, string>;

/** One night of an s3Bucket dataset whose source is `source` (key → content), with blobs written into the store. */
async function night(n: string, source: Source, previous?: DatasetIndex, every = 7): Promise<DatasetIndex> {
  const keys = [...source.keys()].sort(compareUtf8);
  async function* listing(): AsyncIterable<ListedObject> {
    for (const key of keys) yield { key, size: Buffer.byteLength(source.get(key)!), etag: `"${sha256Hex(source.get(key)!).slice(0, 32)}"`, modified: null };
  }
  const r = await buildNightIndex({
    store, night: n, dataset: 'recordings', previous, listing: listing(), checkpointEveryNights: every, shardRecords: 3, runId: 'run-1',
    resolve: async (o) => {
      const body = source.get(o.key)!;
      const sha256 = sha256Hex(body);
      const exists = Boolean(await store.head(naming.blobKey(sha256)));
      if (!exists) await store.put(naming.blobKey(sha256), body);
      return { sha256, size: Buffer.byteLength(body), version: null, contentType: 'audio/wav', metadata: { agent: 'a1' }, copied: !exists };
    },
  });
  await buildManifest({ store, night: n, datasets: [{ name: 'recordings', kind: 's3Bucket' }], createdAt: new Date(`${n}T03:00:00Z`) });
  return r.index;
}

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

async function viewContents(n: string): Promise<Map<string, string>> {
  const r = await readNight(store, n);
  const out = new Map<string, string>();
  for await (const e of r.entries('recordings')) out.set(e.key, (await store.getBytes(e.blob)).toString());
  return out;
}

test('every retained night restores to its own bytes after later nights change and delete its objects', async () => {
  const n1: Source = new Map([['a.wav', 'one'], ['b.wav', 'two'], ['c.wav', 'three'], ['d.wav', 'four'], ...ODD_KEYS.map((k, i) => [k, `odd ${i}`] as [string, string])]);
  const i1 = await night('2026-11-01', n1);
  const n2: Source = new Map(n1);
  n2.set('a.wav', 'ONE'); // rewritten, same size
  n2.delete('b.wav');
  n2.set('e.wav', 'five');
  const i2 = await night('2026-11-02', n2, i1, 2); // a checkpoint night (every 2)
  const n3: Source = new Map(n2);
  n3.set('c.wav', 'THREE');
  await night('2026-11-03', n3, i2, 2);
  expect(await viewContents('2026-11-01')).toEqual(n1);
  expect(await viewContents('2026-11-02')).toEqual(n2);
  expect(await viewContents('2026-11-03')).toEqual(n3);
  const changes = await collect((await readNight(store, '2026-11-02')).changes('recordings'));
  expect(changes.map((c) => [c.op, c.key])).toEqual([['change', 'a.wav'], ['remove', 'b.wav'], ['add', 'e.wav']]);
  const fresh = await collect((await readNight(store, '2026-11-02')).newBlobs());
  expect(fresh.map((b) => b.sha256).sort()).toEqual([sha256Hex('ONE'), sha256Hex('five')].sort());
});

test('a night that is not a checkpoint writes only its changes; the view comes from the checkpoint plus change runs', async () => {
  const src: Source = new Map(Array.from({ length: 10 }, (_, i) => [`k${i}`, `v${i}`] as [string, string]));
  const i1 = await night('2026-11-01', src);
  src.set('k3', 'changed');
  const i2 = await night('2026-11-02', src, i1);
  expect(i2.checkpoint.night).toBe('2026-11-01');
  expect(i2.since.map((r) => r.night)).toEqual(['2026-11-02']);
  expect(i2.night).toMatchObject({ records: 1, changed: 1, added: 0, removed: 0, newBlobs: 1, copiedBlobs: 1 });
  const entries: IndexEntry[] = await collect((await readNight(store, '2026-11-02')).entries('recordings'));
  expect(entries).toHaveLength(10);
  expect(entries.find((e) => e.key === 'k3')).toMatchObject({ sha256: sha256Hex('changed'), contentType: 'audio/wav', metadata: { agent: 'a1' } });
});

test('a tampered index file is refused when read', async () => {
  const i1 = await night('2026-11-01', new Map([['a', '1'], ['b', '2']]));
  writeFileSync(join(dir, i1.checkpoint.files[0].key), 'not gzip');
  await expect(collect((await readNight(store, '2026-11-01')).entries('recordings'))).rejects.toThrow(/corrupt index|incorrect header/);
});

test('checkNight hashes the night files, the new blobs and the scrub share, and names a corrupted or missing blob', async () => {
  await night('2026-11-01', new Map([['a', 'alpha'], ['b', 'beta']]));
  const ok = await checkNight(store, '2026-11-01', { scrubCycleNights: 1 });
  expect(ok.bad).toEqual([]);
  expect(ok.coverage.newBlobs.objects).toBe(2);
  expect(ok.coverage.scrub.objects).toBe(2);
  writeFileSync(join(dir, naming.blobKey(sha256Hex('alpha'))), 'ALPHA');
  rmSync(join(dir, naming.blobKey(sha256Hex('beta'))));
  const bad = await checkNight(store, '2026-11-01', { scrubCycleNights: 30 });
  expect(bad.bad).toEqual([
    { key: naming.blobKey(sha256Hex('alpha')), problem: expect.stringMatching(/^sha256: manifest says [0-9a-f]{64}, found [0-9a-f]{64}$/) },
    { key: naming.blobKey(sha256Hex('beta')), problem: 'missing' },
  ].sort((a, b) => compareUtf8(a.key, b.key)));
});

test('a v1 manifest is refused with its version and the way forward', () => {
  const v1 = JSON.stringify({ formatVersion: 1, night: '2026-11-01', entries: [] });
  expect(() => parseManifest(v1, 'm.json')).toThrow(/formatVersion 1 is not read by this build \(it reads format 2\)\. No deployment holds v1 data: run the nightly export once/);
  expect(() => parseManifest(JSON.stringify({ formatVersion: 3 }))).toThrow(/unsupported formatVersion 3/);
});

test('scrub rotation: over any scrubCycleNights consecutive nights every blob is read exactly once', () => {
  fc.assert(fc.property(
    fc.integer({ min: 1, max: 256 }), fc.integer({ min: 0, max: 3000 }), fc.array(fc.stringMatching(/^[0-9a-f]{64}$/), { maxLength: 20 }),
    (cycle, start, shas) => {
      for (const sha of shas) {
        let hits = 0;
        for (let d = 0; d < cycle; d++) {
          const n = naming.nightId(new Date(Date.UTC(2026, 0, 1) + (start + d) * 86_400_000));
          const inSubset = inScrubSubset(sha, n, cycle);
          expect(inSubset).toBe(scrubPrefixes(n, cycle).includes(sha.slice(0, 2)));
          if (inSubset) hits++;
        }
        expect(hits).toBe(1);
      }
    },
  ), { numRuns: 60 });
});

test('scrubSubset filters a stream by the same rule', async () => {
  const shas = Array.from({ length: 256 }, (_, i) => `${i.toString(16).padStart(2, '0')}${'0'.repeat(62)}`);
  const got = await collect(scrubSubset(shas.map((sha256) => ({ sha256 })), '2026-11-01', 30));
  expect(got.map((b) => b.sha256.slice(0, 2))).toEqual(scrubPrefixes('2026-11-01', 30));
});

test('key order is UTF-8 byte order (what S3 lists in)', () => {
  fc.assert(fc.property(fc.string({ unit: 'grapheme' }), fc.string({ unit: 'grapheme' }), (a, b) => {
    expect(Math.sign(compareUtf8(a, b))).toBe(Math.sign(Buffer.compare(Buffer.from(a), Buffer.from(b))));
  }));
  expect(compareUtf8('\uffff', '\u{10000}')).toBeLessThan(0);
});

test('an object that vanished between the listing and its read is not in the view (removed if it was there)', async () => {
  const i1 = await night('2026-11-01', new Map([['a', '1'], ['b', '2']]));
  async function* listing(): AsyncIterable<ListedObject> {
    yield { key: 'a', size: 1, etag: 'changed', modified: null };
    yield { key: 'c', size: 1, etag: 'new', modified: null };
  }
  const r = await buildNightIndex({ store, night: '2026-11-02', dataset: 'recordings', previous: i1, listing: listing(), runId: 'run-1', resolve: async () => null });
  expect(r.index.night).toMatchObject({ added: 0, changed: 0, removed: 2 });
  await buildManifest({ store, night: '2026-11-02', datasets: [{ name: 'recordings', kind: 's3Bucket' }] });
  expect(await viewContents('2026-11-02')).toEqual(new Map());
});
