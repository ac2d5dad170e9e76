/**
 * prune (format v2) against a local folder store: never deletes a blob that a night still present
 * references (property-based), deletes what nothing references once unlocked, reports a dry run,
 * and refuses to run on an unreadable night.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { naming } from '../../lib/core';
import { buildNightIndex, compareUtf8, readNight, type DatasetIndex, type ListedObject } from '../../lib/runtime/format';
import { buildManifest } from '../../lib/runtime/manifest';
import { prune } from '../../lib/runtime/prune';
import { FileStore } from '../../lib/runtime/stores/file';
import { sha256Hex } from '../../lib/runtime/util';

const FAR_FUTURE = new Date('2030-01-01T00:00:00Z');

function nightOf(i: number): string {
  return naming.nightId(new Date(Date.UTC(2026, 10, 1) + i * 86_400_000));
}

async function runNight(store: FileStore, n: string, source: Map<string, string>, previous: DatasetIndex | undefined, every: number): Promise<DatasetIndex> {
  const keys = [...source.keys()].sort(compareUtf8);
  async function* listing(): AsyncIterable<ListedObject> {
    for (const key of keys) yield { key, size: source.get(key)!.length, etag: sha256Hex(source.get(key)!), modified: null };
  }
  const r = await buildNightIndex({
    store, night: n, dataset: 'rec', previous, listing: listing(), checkpointEveryNights: every, runId: 'run-1', concurrency: 1,
    resolve: async (o) => {
      const body = source.get(o.key)!;
      const sha256 = sha256Hex(body);
      const copied = !(await store.head(naming.blobKey(sha256)));
      if (copied) await store.put(naming.blobKey(sha256), body);
      return { sha256, size: body.length, version: null, contentType: null, metadata: {}, copied };
    },
  });
  await buildManifest({ store, night: n, datasets: [{ name: 'rec', kind: 's3Bucket' }], createdAt: new Date(`${n}T03:00:00Z`) });
  return r.index;
}

async function viewBodies(store: FileStore, n: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for await (const e of (await readNight(store, n)).entries('rec')) {
    const body = (await store.getBytes(e.blob)).toString();
    expect(sha256Hex(body)).toBe(e.sha256);
    out.set(e.key, body);
  }
  return out;
}

const op = fc.oneof(
  fc.record({ kind: fc.constant('put' as const), key: fc.integer({ min: 0, max: 7 }), value: fc.integer({ min: 0, max: 5 }) }),
  fc.record({ kind: fc.constant('delete' as const), key: fc.integer({ min: 0, max: 7 }) }),
);

test('property: after prune every night still present restores byte for byte; unreferenced unlocked blobs are gone', async () => {
  await fc.assert(fc.asyncProperty(
    fc.array(fc.array(op, { maxLength: 5 }), { minLength: 1, maxLength: 6 }), fc.integer({ min: 1, max: 3 }), fc.nat({ max: 6 }),
    async (nights, every, expire) => {
      const dir = mkdtempSync(join(tmpdir(), 'cp-prune-'));
      try {
        const store = new FileStore(dir);
        const source = new Map<string, string>();
        const expected = new Map<string, Map<string, string>>();
        let previous: DatasetIndex | undefined;
        for (const [i, ops] of nights.entries()) {
          for (const o of ops) {
            if (o.kind === 'put') source.set(`k${o.key}`, `value-${o.value}`);
            else source.delete(`k${o.key}`);
          }
          const n = nightOf(i);
          previous = await runNight(store, n, source, previous, every);
          expected.set(n, new Map(source));
        }
        // retention: the oldest nights' manifests expire (their index files stay while a later night names them)
        const gone = [...expected.keys()].slice(0, Math.min(expire, expected.size - 1));
        for (const n of gone) {
          rmSync(join(dir, naming.manifestKey(n)));
          expected.delete(n);
        }
        const report = await prune({ store, now: FAR_FUTURE, graceDays: 0 });
        expect(report.failures).toEqual([]);
        for (const [n, want] of expected) expect(await viewBodies(store, n)).toEqual(want);
        // what is left is only what a present night can name
        const named = new Set<string>();
        for (const want of expected.values()) for (const v of want.values()) named.add(naming.blobKey(sha256Hex(v)));
        const left: string[] = [];
        for await (const o of store.list(naming.BLOBS_PREFIX)) left.push(o.key);
        for (const k of named) expect(left).toContain(k);
        expect(report.blobs - report.deleted).toBe(left.length);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  ), { numRuns: 25 });
}, 120_000);

describe('prune', () => {
  let dir: string;
  let store: FileStore;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'cp-prune-'));
    store = new FileStore(dir);
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  async function twoNightsThenExpireFirst(): Promise<string> {
    const src = new Map([['a', 'old'], ['b', 'keep']]);
    const i1 = await runNight(store, nightOf(0), src, undefined, 1);
    src.set('a', 'new');
    await runNight(store, nightOf(1), src, i1, 1);
    rmSync(join(dir, naming.manifestKey(nightOf(0))));
    return naming.blobKey(sha256Hex('old'));
  }

  test('a dry run reports and deletes nothing; a real run deletes the blob nothing references', async () => {
    const orphan = await twoNightsThenExpireFirst();
    const dry = await prune({ store, now: FAR_FUTURE, graceDays: 0, dryRun: true });
    expect(dry).toMatchObject({ dryRun: true, blobs: 3, referenced: 2, unreferenced: 1, deleted: 1, bytesFreed: 3 });
    expect(await store.head(orphan)).toBeDefined();
    const real = await prune({ store, now: FAR_FUTURE, graceDays: 0 });
    expect(real).toMatchObject({ dryRun: false, deleted: 1 });
    expect(await store.head(orphan)).toBeUndefined();
    expect(await viewBodies(store, nightOf(1))).toEqual(new Map([['a', 'new'], ['b', 'keep']]));
  });

  test('keeps unreferenced blobs that are still under retention or younger than the grace period', async () => {
    await twoNightsThenExpireFirst();
    const locked = new FileStore(dir, { retentionSeconds: 10 * 365 * 86_400 });
    expect(await prune({ store: locked, now: new Date(), graceDays: 0 })).toMatchObject({ deleted: 0, keptLocked: 1 });
    expect(await prune({ store, now: new Date(), graceDays: 7 })).toMatchObject({ deleted: 0, keptYoung: 1 });
  });

  test('refuses to run (deletes nothing) when a present night cannot be read', async () => {
    const orphan = await twoNightsThenExpireFirst();
    writeFileSync(join(dir, naming.manifestKey(nightOf(1))), '{"formatVersion":1}');
    await expect(prune({ store, now: FAR_FUTURE, graceDays: 0 })).rejects.toThrow(/formatVersion 1/);
    expect(await store.head(orphan)).toBeDefined();
  });
});
