/**
 * The drill's "primary lost" night: the recordings bucket is emptied, the DynamoDB table deleted and
 * the CRM database dropped; then `reload` puts the last verified night back from the Azure copy into
 * the emulated AWS (moto) and the primary PostgreSQL, under the original names (a rebuild in place),
 * and the drill compares the result with what the primary held at that night, through its own
 * digests (not the reload's proof). The Connect configuration goes to a fresh in-memory instance.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateBucketCommand, DeleteObjectsCommand, ListObjectVersionsCommand, type S3Client } from '@aws-sdk/client-s3';
import { DeleteTableCommand, waitUntilTableNotExists, type AttributeValue, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { Client } from 'pg';
import { reload } from '../../lib/runtime/reload';
import { connectApplier } from '../../lib/runtime/reload/connect';
import type { ReloadReport } from '../../lib/runtime/reload/report';
import { parseReloadTarget } from '../../lib/runtime/reload/target';
import { InMemoryConnectTarget } from '../../lib/runtime/exporters/connect-fixture';
import type { ObjectStore } from '../../lib/runtime/stores/types';
import { dynamoDigest, modelDigest, pgDigests, type TableDigest } from './compare';
import type { SeededRecording } from './seed';

type Pg = { host: string; port: number; user: string };

export interface PrimaryLostContext {
  readonly s3: S3Client;
  readonly ddb: DynamoDBClient;
  readonly region: string;
  /** The counterparty copy to reload from (the Azure container on Azurite). */
  readonly counterparty: ObjectStore;
  /** Where the counterparty's verification records are. @default the counterparty */
  readonly recordsStore?: ObjectStore;
  readonly pg: Pg;
  readonly datasets: { readonly recordings: string; readonly contacts: string; readonly crm: string; readonly connect: string };
  readonly recordingsBucket: string;
  readonly contactsTable: string;
  readonly crmDatabase: string;
  /** What the primary held at the last verified night: the truth the reload is compared with. */
  readonly truth: { readonly recordings: ReadonlyMap<string, SeededRecording>; readonly contacts: Map<string, Record<string, AttributeValue>>; readonly crm: Record<string, TableDigest> };
  readonly stage: <T>(name: string, fn: () => Promise<T>, detail?: (r: T) => string) => Promise<T>;
  readonly check: (name: string, ok: boolean, detail: string) => void;
}

async function emptyBucket(s3: S3Client, bucket: string): Promise<number> {
  let deleted = 0;
  for (;;) {
    const page = await s3.send(new ListObjectVersionsCommand({ Bucket: bucket }));
    const objects = [...(page.Versions ?? []), ...(page.DeleteMarkers ?? [])].map((v) => ({ Key: v.Key!, VersionId: v.VersionId }));
    if (!objects.length) return deleted;
    for (let i = 0; i < objects.length; i += 1000) await s3.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: objects.slice(i, i + 1000), Quiet: true } }));
    deleted += objects.length;
  }
}

/** Loses the primary's data: every recording version, the table, the CRM database. */
export async function losePrimary(ctx: PrimaryLostContext): Promise<string> {
  const versions = await emptyBucket(ctx.s3, ctx.recordingsBucket);
  await ctx.ddb.send(new DeleteTableCommand({ TableName: ctx.contactsTable }));
  await waitUntilTableNotExists({ client: ctx.ddb, maxWaitTime: 60 }, { TableName: ctx.contactsTable });
  const c = new Client({ ...ctx.pg, database: 'postgres' });
  await c.connect();
  try { await c.query(`DROP DATABASE "${ctx.crmDatabase}" WITH (FORCE)`); } finally { await c.end(); }
  return `${versions} recording versions deleted, table ${ctx.contactsTable} deleted, database ${ctx.crmDatabase} dropped`;
}

export const RELOAD_CHECKS = ['reload: recordings match', 'reload: contact records match', 'reload: CRM tables match', 'reload: Connect configuration applied', 'reload: fail-back RTO measured'] as const;

/**
 * Runs the night; returns the reload report (its rtoSeconds is the measured fail-back RTO), or undefined
 * when the reload failed, in which case every reload check row is a failure naming the error.
 */
export async function runPrimaryLostNight(ctx: PrimaryLostContext): Promise<ReloadReport | undefined> {
  try {
    return await primaryLostNight(ctx);
  } catch (err) {
    for (const name of RELOAD_CHECKS) ctx.check(name, false, `the reload failed: ${(err as Error).message.split('\n')[0]}`);
    return undefined;
  }
}

async function primaryLostNight(ctx: PrimaryLostContext): Promise<ReloadReport> {
  await ctx.stage('primary lost: empty the recordings bucket, delete the table, drop the CRM database', () => losePrimary(ctx), (d) => d);
  const work = mkdtempSync(join(tmpdir(), 'cp-drill-reload-'));
  const staging = `${ctx.recordingsBucket.slice(0, 40)}-reload-staging`;
  await ctx.s3.send(new CreateBucketCommand({ Bucket: staging, CreateBucketConfiguration: { LocationConstraint: ctx.region as never } }));
  const targetText = JSON.stringify({
    region: ctx.region, stagingBucket: staging,
    datasets: {
      [ctx.datasets.recordings]: { bucket: ctx.recordingsBucket },
      [ctx.datasets.contacts]: { tableName: ctx.contactsTable },
      [ctx.datasets.crm]: { host: ctx.pg.host, port: ctx.pg.port, database: ctx.crmDatabase, user: ctx.pg.user },
      [ctx.datasets.connect]: { instanceId: '0d1e2f30-4a5b-4c6d-8e7f-901234567890' },
    },
  });
  const connect = new InMemoryConnectTarget('0d1e2f30-4a5b-4c6d-8e7f-901234567890');
  connect.seed('queues', 'queue', 'BasicQueue');
  try {
    const report = await ctx.stage('primary lost: reload the last verified night from the Azure copy', () => reload({
      source: ctx.counterparty, recordsStore: ctx.recordsStore, night: 'latest-verified', target: parseReloadTarget(targetText), targetText,
      s3: ctx.s3, dynamo: ctx.ddb, applyConnect: connectApplier({ client: connect, staging: { s3: ctx.s3, bucket: staging } }), stateDir: join(work, 'state'), outDir: join(work, 'out'),
    }), (r) => `night ${r.night} in ${r.rtoSeconds.toFixed(1)} s: ${r.phases.map((p) => `${p.phase} ${p.seconds.toFixed(1)} s`).join(', ')}`);
    await compareWithTruth(ctx, connect, report);
    return report;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

async function compareWithTruth(ctx: PrimaryLostContext, connect: InMemoryConnectTarget, report: ReloadReport): Promise<void> {
  const rec = report.datasets.find((d) => d.name === ctx.datasets.recordings);
  const listed = new Map<string, { size: number }>();
  let token: string | undefined;
  const { ListObjectsV2Command } = await import('@aws-sdk/client-s3');
  do {
    const page = await ctx.s3.send(new ListObjectsV2Command({ Bucket: ctx.recordingsBucket, ContinuationToken: token }));
    for (const o of page.Contents ?? []) listed.set(o.Key!, { size: Number(o.Size) });
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  const missing = [...ctx.truth.recordings.values()].filter((r) => listed.get(r.key)?.size !== r.size).length;
  ctx.check('reload: recordings match', missing === 0 && listed.size === ctx.truth.recordings.size && rec?.problems.length === 0,
    `${listed.size} objects in the rebuilt bucket, ${ctx.truth.recordings.size} at the night, ${missing} missing or a different size; the reload's SHA-256 proof found ${rec?.problems.length ?? '?'} problems`);
  const [want, got] = [modelDigest(ctx.truth.contacts, 'contactId'), await dynamoDigest(ctx.ddb, ctx.contactsTable, 'contactId')];
  ctx.check('reload: contact records match', want.items === got.items && want.sha256 === got.sha256, `rebuilt table ${got.items} items ${got.sha256.slice(0, 12)}…, night ${want.items} items ${want.sha256.slice(0, 12)}…`);
  const crm = await pgDigests(ctx.pg, ctx.crmDatabase);
  const tables = Object.keys(ctx.truth.crm);
  ctx.check('reload: CRM tables match', tables.length > 0 && JSON.stringify(crm) === JSON.stringify(ctx.truth.crm), tables.map((t) => `${t} ${crm[t]?.rows ?? 0}${crm[t]?.md5 === ctx.truth.crm[t].md5 ? '=' : '≠'}`).join(', '));
  const con = report.datasets.find((d) => d.name === ctx.datasets.connect);
  const created = Number(con?.loaded.created ?? 0);
  ctx.check('reload: Connect configuration applied', created > 0 && (con?.problems.length ?? 1) === 0,
    `${created} resources created, ${con?.loaded.existing ?? 0} already there; needs a person: ${con?.cannotMove?.length ?? 0} (${(con?.cannotMove ?? []).slice(0, 2).join('; ')}${(con?.cannotMove?.length ?? 0) > 2 ? '; …' : ''})`);
  ctx.check('reload: fail-back RTO measured', report.rtoSeconds > 0, `${report.rtoSeconds.toFixed(1)} s from start to proven (${report.phases.map((p) => `${p.phase} ${p.seconds.toFixed(1)} s`).join(', ')})`);
  void connect;
}
