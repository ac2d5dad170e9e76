/**
 * Lambda handler: writes a night's manifest (every object with key, size, SHA-256, chained to the
 * previous night) with lib/runtime/manifest.ts. Event `{ bucket, night, datasets: [{ name, kind, tableName? }] }`;
 * returns `{ manifestKey, sha256, objects, bytes, previousSha256 }`. See docs/ARCHITECTURE.md.
 *
 * The nightly state machine exports DynamoDB tables with the service integration, which writes no key
 * schema; for every `dynamoDbTable` dataset that carries its `tableName`, this handler first writes
 * `naming.dynamoDbTableSchemaKey` (when the night has none yet), so the manifest covers it and a restore
 * on a counterparty knows the key columns without AWS.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { naming } from '../../core';
import { writeTableSchema } from '../exporters/dynamodb';
import { buildManifest } from '../manifest';
import { logEvent } from '../log';
import { S3Store, s3ClientFromEnv } from '../stores/s3';

export interface BuildManifestEvent {
  readonly bucket: string;
  readonly night: string;
  readonly datasets: readonly { readonly name: string; readonly kind: string; readonly tableName?: string }[];
}
export interface BuildManifestResult {
  readonly manifestKey: string;
  readonly sha256: string;
  readonly objects: number;
  readonly bytes: number;
  readonly previousSha256: string | null;
}

/** Clients, replaceable in tests. */
export const deps = {
  dynamoDb: (): Pick<DynamoDBClient, 'send'> => new DynamoDBClient({}),
};

export async function handler(event: BuildManifestEvent): Promise<BuildManifestResult> {
  if (typeof event?.bucket !== 'string' || !event.bucket) throw new Error('build-manifest: event.bucket must be a non-empty string');
  if (!Array.isArray(event.datasets) || !event.datasets.length) throw new Error('build-manifest: event.datasets must list { name, kind }');
  const store = new S3Store(event.bucket, s3ClientFromEnv());
  for (const ds of event.datasets) {
    if (ds.kind !== 'dynamoDbTable' || !ds.tableName) continue;
    const key = naming.dynamoDbTableSchemaKey(event.night, ds.name);
    if (!(await store.head(key))) await writeTableSchema(deps.dynamoDb(), store, ds.tableName, naming.datasetNightPrefix(event.night, ds.name));
  }
  const r = await buildManifest({
    store,
    night: event.night,
    datasets: event.datasets,
    bucket: event.bucket,
    system: process.env.CP_SYSTEM || undefined,
  });
  logEvent('counterparty.manifest', { result: 'success', night: event.night, key: r.key, sha256: r.sha256, objects: r.manifest.totals.objects, bytes: r.manifest.totals.bytes, previous: r.manifest.previous });
  return { manifestKey: r.key, sha256: r.sha256, objects: r.manifest.totals.objects, bytes: r.manifest.totals.bytes, previousSha256: r.manifest.previous?.sha256 ?? null };
}
