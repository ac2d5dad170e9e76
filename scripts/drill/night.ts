/**
 * One night on the primary, as the state machine runs it, with the real runtime modules:
 * sync-objects (recordings), pg_dump → S3, DynamoDB export + wait, the Connect crawler, then the
 * manifest builder. Shared by the drill and the drill tests.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { naming, type ResolvedPlan, type Dataset } from '../../lib/core';
import { buildManifest, type BuiltManifest } from '../../lib/runtime/manifest';
import { exportConnectConfiguration, type ConnectLike } from '../../lib/runtime/exporters/connect';
import { exportDynamoDbTable } from '../../lib/runtime/exporters/dynamodb';
import { exportPostgres } from '../../lib/runtime/exporters/postgres';
import { S3Store } from '../../lib/runtime/stores/s3';
import { syncObjects, type SyncObjectsResult } from '../../lib/runtime/sync-objects';

export interface PrimarySources {
  /** Source bucket per s3Bucket dataset (the drill's moto buckets). */
  readonly buckets: Readonly<Record<string, string>>;
  /** DynamoDB table per dataset. */
  readonly tables: Readonly<Record<string, string>>;
  /** PostgreSQL connection per postgres dataset. */
  readonly postgres: Readonly<Record<string, { host: string; port: number; user: string; database: string }>>;
  readonly connect: ConnectLike;
}

export interface NightResult {
  readonly night: string;
  readonly seconds: Record<string, number>;
  readonly sync: Record<string, SyncObjectsResult>;
  readonly manifest: BuiltManifest;
}

async function timed<T>(seconds: Record<string, number>, name: string, fn: () => Promise<T>): Promise<T> {
  const t = Date.now();
  try {
    return await fn();
  } finally {
    seconds[name] = (Date.now() - t) / 1000;
  }
}

export async function runPrimaryNight(opts: {
  plan: ResolvedPlan; s3: S3Client; ddb: DynamoDBClient; bucket: string; night: string; sources: PrimarySources; createdAt?: Date;
}): Promise<NightResult> {
  const { plan, s3, ddb, bucket, night, sources } = opts;
  const store = new S3Store(bucket, s3);
  const seconds: Record<string, number> = {};
  const sync: Record<string, SyncObjectsResult> = {};
  const job = async (d: Dataset): Promise<void> => {
    switch (d.kind) {
      case 's3Bucket':
        sync[d.name] = await timed(seconds, `sync-objects ${d.name}`, () => syncObjects({ s3, sourceBucket: sources.buckets[d.name], sourcePrefix: d.prefix, exportBucket: bucket, dataset: d.name, night, emulatorChecksumHeader: true }));
        return;
      case 'postgres': {
        const c = sources.postgres[d.name];
        await timed(seconds, `export-postgres ${d.name}`, () => exportPostgres({ store, key: naming.postgresDumpKey(night, d.name), connection: c }));
        return;
      }
      case 'dynamoDbTable':
        await timed(seconds, `export-dynamodb ${d.name}`, () => exportDynamoDbTable({ client: ddb, tableName: sources.tables[d.name], bucket, prefix: naming.datasetNightPrefix(night, d.name), store, pollMs: 250 }));
        return;
      case 'connectInstance':
        await timed(seconds, `export-connect ${d.name}`, () => exportConnectConfiguration({ client: sources.connect, instanceId: d.instanceId, store, prefix: naming.datasetNightPrefix(night, d.name), retry: { baseDelayMs: 5 } }));
        return;
    }
  };
  await Promise.all(plan.datasets.map(job));
  const manifest = await timed(seconds, 'build-manifest', () => buildManifest({
    store, night, datasets: plan.datasets.map((d) => ({ name: d.name, kind: d.kind })), system: plan.system, bucket, createdAt: opts.createdAt,
  }));
  return { night, seconds, sync, manifest };
}
