/**
 * Lambda handler: writes a night's manifest (format v2: per-dataset status and counts, the night's own
 * files with SHA-256, the s3Bucket index runs sync-objects wrote, chained to the previous night) with
 * lib/runtime/manifest.ts. It lists only the night's folders, never the blobs, so it fits the Lambda at
 * any estate size. Event `{ bucket, night, datasets: [{ name, kind, tableName? }] }`;
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
  /**
   * Datasets whose branch failed, as the state machine's Catch recorded them: dataset name → the
   * caught `{ Error, Cause }` (or a reason string). The manifest marks them `failed` with that reason.
   */
  readonly failures?: Readonly<Record<string, string | { readonly Error?: string; readonly Cause?: string } | null>>;
}

/** One line for a caught Step Functions error. */
export function failureReason(f: string | { readonly Error?: string; readonly Cause?: string }): string {
  if (typeof f === 'string') return f;
  return [f.Error, f.Cause].filter(Boolean).join(': ').replace(/\s*\n\s*/g, ' ').slice(0, 500) || 'the export step failed';
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
    if (event.failures?.[ds.name]) continue;
    if (!(await store.head(key))) await writeTableSchema(deps.dynamoDb(), store, ds.tableName, naming.datasetNightPrefix(event.night, ds.name));
  }
  const failures: Record<string, string> = {};
  for (const [name, f] of Object.entries(event.failures ?? {})) if (f) failures[name] = failureReason(f);
  const r = await buildManifest({
    store,
    night: event.night,
    datasets: event.datasets,
    failures,
    bucket: event.bucket,
    system: process.env.CP_SYSTEM || undefined,
  });
  const failed = r.manifest.datasets.filter((d) => d.status === 'failed').map((d) => ({ name: d.name, reason: d.reason }));
  logEvent('counterparty.manifest', {
    result: failed.length ? 'failure' : 'success', night: event.night, key: r.key, sha256: r.sha256, objects: r.manifest.totals.objects, bytes: r.manifest.totals.bytes, previous: r.manifest.previous,
    ...(failed.length ? { reason: 'incomplete-night', error: failed.map((f) => `${f.name}: ${f.reason}`).join('; '), failed } : {}),
  });
  // The night is written (the other datasets are usable); the execution still fails, so its alarm fires.
  if (failed.length) throw new Error(`build-manifest: night ${event.night} written with failed dataset(s): ${failed.map((f) => `${f.name}: ${f.reason}`).join('; ')}`);
  return { manifestKey: r.key, sha256: r.sha256, objects: r.manifest.totals.objects, bytes: r.manifest.totals.bytes, previousSha256: r.manifest.previous?.sha256 ?? null };
}
