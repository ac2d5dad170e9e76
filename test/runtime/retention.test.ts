/**
 * A GCS-like vault (retention policy, no versioning): the file store refuses to replace or delete an
 * object inside retention, as GCS does. Format v2 never needs to: a recording rewritten on the
 * primary becomes a new blob, and both nights stay restorable.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { naming } from '../../lib/core';
import { buildNightIndex, compareUtf8, readNight, type DatasetIndex, type ListedObject } from '../../lib/runtime/format';
import { buildManifest } from '../../lib/runtime/manifest';
import { FileStore, RetentionError } from '../../lib/runtime/stores';
import { sha256Hex } from '../../lib/runtime/util';

let dir: string;
let clock: number;
let vault: FileStore;
const DAY = 86_400_000;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'cp-retention-'));
  clock = Date.UTC(2026, 10, 1, 3);
  vault = new FileStore(dir, { retentionSeconds: 30 * 86_400, now: () => clock });
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

test('inside retention an object can be neither replaced nor deleted; after it, both work', async () => {
  await vault.put('k', 'one');
  await expect(vault.put('k', 'two')).rejects.toBeInstanceOf(RetentionError);
  await expect(vault.delete('k')).rejects.toThrow(/under retention until 2026-12-01T03:00:00.000Z; delete refused/);
  expect((await vault.getBytes('k')).toString()).toBe('one');
  clock += 31 * DAY;
  await vault.put('k', 'two');
  expect((await vault.getBytes('k')).toString()).toBe('two');
});

async function night(n: string, source: Map<string, string>, previous?: DatasetIndex): Promise<DatasetIndex> {
  async function* listing(): AsyncIterable<ListedObject> {
    for (const key of [...source.keys()].sort(compareUtf8)) yield { key, size: source.get(key)!.length, etag: sha256Hex(source.get(key)!), modified: null };
  }
  const r = await buildNightIndex({
    store: vault, night: n, dataset: 'recordings', previous, listing: listing(), runId: 'run-1', concurrency: 1,
    resolve: async (o) => {
      const body = source.get(o.key)!;
      const sha256 = sha256Hex(body);
      const copied = !(await vault.head(naming.blobKey(sha256))); // what Storage Transfer's overwriteWhen NEVER does
      if (copied) await vault.put(naming.blobKey(sha256), body);
      return { sha256, size: body.length, version: null, contentType: 'audio/wav', metadata: {}, copied };
    },
  });
  await buildManifest({ store: vault, night: n, datasets: [{ name: 'recordings', kind: 's3Bucket' }], createdAt: new Date(clock) });
  clock += DAY;
  return r.index;
}

test('a recording rewritten at the same size is a new blob: no write is refused and both nights restore', async () => {
  const src = new Map([['rec/1.wav', 'aaaa'], ['rec/2.wav', 'bbbb']]);
  const i1 = await night('2026-11-01', src);
  src.set('rec/1.wav', 'AAAA'); // same size, new content (v1 rewrote objects/recordings/rec/1.wav: GCS refused it)
  await expect(vault.put(naming.blobKey(sha256Hex('aaaa')), 'AAAA')).rejects.toBeInstanceOf(RetentionError);
  await night('2026-11-02', src, i1);
  const bodies = async (n: string): Promise<Record<string, string>> => {
    const out: Record<string, string> = {};
    for await (const e of (await readNight(vault, n)).entries('recordings')) out[e.key] = (await vault.getBytes(e.blob)).toString();
    return out;
  };
  expect(await bodies('2026-11-01')).toEqual({ 'rec/1.wav': 'aaaa', 'rec/2.wav': 'bbbb' });
  expect(await bodies('2026-11-02')).toEqual({ 'rec/1.wav': 'AAAA', 'rec/2.wav': 'bbbb' });
});
