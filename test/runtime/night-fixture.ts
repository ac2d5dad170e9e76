/**
 * Format v2 nights written into a store the way the primary's jobs write them (index + blobs for
 * recordings, a pg_dump-like file, a DynamoDB export, Connect JSON), for the verifier, status and
 * restorer tests. Not a test file itself.
 */
import { gzipSync } from 'node:zlib';
import { naming } from '../../lib/core';
import { buildNightIndex, compareUtf8, type DatasetIndex, type ListedObject } from '../../lib/runtime/format';
import { buildManifest, type BuiltManifest } from '../../lib/runtime/manifest';
import type { ObjectStore } from '../../lib/runtime/stores/types';
import { sha256Hex } from '../../lib/runtime/util';

export interface NightContents {
  /** s3Bucket dataset `recordings`: source key → bytes. */
  readonly recordings?: ReadonlyMap<string, string | Buffer>;
  /** The recordings index of the night before (its change run is computed against it). */
  readonly previous?: DatasetIndex;
  /** postgres dataset `crm`: the dump's bytes. */
  readonly crm?: string | Buffer;
  /** dynamoDbTable dataset `contacts`: the export's items (DynamoDB JSON) and the item count its summary states. */
  readonly contacts?: { readonly items: readonly Record<string, unknown>[]; readonly itemCount?: number; readonly keySchema?: string };
  /** connectInstance dataset `connect`: resource type → documents. */
  readonly connect?: Readonly<Record<string, unknown[]>>;
  readonly createdAt?: Date;
}

export const FIXTURE_DATASETS = [
  { name: 'recordings', kind: 's3Bucket' }, { name: 'crm', kind: 'postgres' }, { name: 'contacts', kind: 'dynamoDbTable' }, { name: 'connect', kind: 'connectInstance' },
] as const;

export async function writeRecordings(store: ObjectStore, night: string, source: ReadonlyMap<string, string | Buffer>, previous?: DatasetIndex): Promise<DatasetIndex> {
  const keys = [...source.keys()].sort(compareUtf8);
  const body = (k: string): Buffer => Buffer.from(source.get(k)!);
  async function* listing(): AsyncIterable<ListedObject> {
    for (const key of keys) yield { key, size: body(key).length, etag: `"${sha256Hex(body(key)).slice(0, 32)}"`, modified: null };
  }
  const r = await buildNightIndex({
    store, night, dataset: 'recordings', previous, listing: listing(), runId: 'run-1',
    resolve: async (o) => {
      const b = body(o.key);
      const sha256 = sha256Hex(b);
      const exists = Boolean(await store.head(naming.blobKey(sha256)));
      if (!exists) await store.put(naming.blobKey(sha256), b);
      return { sha256, size: b.length, version: null, contentType: 'audio/wav', metadata: {}, copied: !exists };
    },
  });
  return r.index;
}

/** Writes one night and its manifest; returns the manifest and the recordings index (for the next night). */
export async function writeNight(store: ObjectStore, night: string, c: NightContents): Promise<{ manifest: BuiltManifest; recordings?: DatasetIndex }> {
  const datasets: { name: string; kind: string }[] = [];
  let recordings: DatasetIndex | undefined;
  if (c.recordings) {
    recordings = await writeRecordings(store, night, c.recordings, c.previous);
    datasets.push({ name: 'recordings', kind: 's3Bucket' });
  }
  if (c.crm !== undefined) {
    await store.put(naming.postgresDumpKey(night, 'crm'), c.crm);
    datasets.push({ name: 'crm', kind: 'postgres' });
  }
  if (c.contacts) {
    const prefix = naming.datasetNightPrefix(night, 'contacts');
    const lines = c.contacts.items.map((Item) => JSON.stringify({ Item })).join('\n');
    await store.put(`${prefix}AWSDynamoDB/0001-export/data/part-0.json.gz`, gzipSync(lines ? `${lines}\n` : ''));
    await store.put(`${prefix}AWSDynamoDB/0001-export/manifest-summary.json`, JSON.stringify({ itemCount: c.contacts.itemCount ?? c.contacts.items.length, exportArn: 'arn:fixture' }));
    const key = c.contacts.keySchema ?? 'id';
    await store.put(`${prefix}table.json`, JSON.stringify({ KeySchema: [{ AttributeName: key, KeyType: 'HASH' }], AttributeDefinitions: [{ AttributeName: key, AttributeType: 'S' }] }));
    datasets.push({ name: 'contacts', kind: 'dynamoDbTable' });
  }
  if (c.connect) {
    const prefix = naming.datasetNightPrefix(night, 'connect');
    const files: { key: string; type: string; count: number; size: number; sha256: string }[] = [];
    for (const [type, docs] of Object.entries(c.connect)) {
      const b = Buffer.from(`${JSON.stringify(docs)}\n`);
      await store.put(`${prefix}${type}.json`, b);
      files.push({ key: `${type}.json`, type, count: docs.length, size: b.length, sha256: sha256Hex(b) });
    }
    const resources = Object.fromEntries(Object.entries(c.connect).map(([t, d]) => [t, d.length]));
    await store.put(`${prefix}index.json`, `${JSON.stringify({ formatVersion: 1, instanceId: 'fixture', resources, files })}\n`);
    datasets.push({ name: 'connect', kind: 'connectInstance' });
  }
  const manifest = await buildManifest({ store, night, datasets, createdAt: c.createdAt ?? new Date(`${night}T02:00:00Z`) });
  return { manifest, recordings };
}
