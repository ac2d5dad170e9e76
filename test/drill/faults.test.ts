/**
 * The faults the drill must catch, against real components: moto_server (S3 Object Lock, DynamoDB),
 * Azurite (the Azure counterparty, written by rclone) and PostgreSQL 15 (primary CRM and standby).
 * Each test fails when its detection breaks.
 */
import { DeleteObjectCommand, GetObjectCommand, ListObjectVersionsCommand, PutObjectCommand, HeadObjectCommand } from '@aws-sdk/client-s3';
import { Client } from 'pg';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { naming } from '../../lib/core';
import { setLogSink } from '../../lib/runtime/log';
import { runCopy } from '../../lib/runtime/copy';
import { readNight } from '../../lib/runtime/format';
import { verifyNight } from '../../lib/runtime/verifier';
import { restoreNight, restoreStatus, type PgTarget } from '../../lib/runtime/restorer';
import { readAll } from '../../lib/runtime/stores/types';
import { FixtureConnectClient, type ConnectFixture } from '../../lib/runtime/exporters/connect-fixture';
import { startAzurite, startMoto, startPostgres, type AzuriteService, type MotoService, type PostgresService } from '../../scripts/services';
import { awsClients, azureCounterparty, createBucket, createExportBucket, drillPlan, motoEnv } from '../../scripts/drill/primary';
import { contactItem, putRecording, recordingKey, seedContactRecords, seedCrm, writeItems, type SeedSize } from '../../scripts/drill/seed';
import { runPrimaryNight, type PrimarySources } from '../../scripts/drill/night';

const SIZE: SeedSize = { recordings: 12, recordingBytes: 600_000, contactRecords: 300, crmCustomers: 200 };
const NIGHT1 = '2026-11-01';
const NIGHT2 = '2026-11-02';
const NIGHT3 = '2026-11-03';

let moto: MotoService | undefined;
let az: AzuriteService;
let primaryPg: PostgresService;
let standbyPg: PostgresService;
const lines: string[] = [];
const plan = drillPlan();
let ctx: {
  s3: ReturnType<typeof awsClients>['s3']; ddb: ReturnType<typeof awsClients>['ddb']; bucket: string; sources: PrimarySources;
  cp: Awaited<ReturnType<typeof azureCounterparty>>; standby: PgTarget; motoEndpoint: string;
};

function copyNow(): ReturnType<typeof runCopy> {
  return runCopy({
    source: { bucket: ctx.bucket, region: plan.primary.region, endpoint: ctx.motoEndpoint },
    destination: { account: az.account, container: naming.AZURE_EXPORTS_CONTAINER, sasUrl: ctx.cp.sasUrl },
    auth: 'env', env: { ...process.env, ...motoEnv(ctx.motoEndpoint, plan.primary.region) },
  });
}

beforeAll(async () => {
  setLogSink({ line: (l) => { lines.push(l); } });
  [moto, az, primaryPg, standbyPg] = await Promise.all([startMoto(), startAzurite(), startPostgres('primary'), startPostgres('standby')]);
  const { s3, ddb } = awsClients(moto.endpoint, plan.primary.region);
  const { bucket } = await createExportBucket(s3, plan);
  const rec = plan.datasets.find((d) => d.kind === 's3Bucket')!;
  const tab = plan.datasets.find((d) => d.kind === 'dynamoDbTable')!;
  const crm = plan.datasets.find((d) => d.kind === 'postgres')!;
  const con = plan.datasets.find((d) => d.kind === 'connectInstance')!;
  if (rec.kind !== 's3Bucket' || tab.kind !== 'dynamoDbTable' || crm.kind !== 'postgres' || con.kind !== 'connectInstance') throw new Error('plan');
  await createBucket(s3, rec.bucketName, plan.primary.region);
  for (let i = 0; i < SIZE.recordings; i++) await putRecording(s3, rec.bucketName, recordingKey(i), 20_000 + i * 1000);
  await seedContactRecords(ddb, tab.tableName, SIZE);
  const pgConn = { host: primaryPg.host, port: primaryPg.port, user: primaryPg.user };
  await seedCrm(pgConn, crm.databaseName, SIZE);
  const fixture = JSON.parse(readFileSync(join(__dirname, '..', 'fixtures', 'connect-instance.json'), 'utf8')) as ConnectFixture;
  const sources: PrimarySources = {
    buckets: { [rec.name]: rec.bucketName }, tables: { [tab.name]: tab.tableName },
    postgres: { [crm.name]: { ...pgConn, database: crm.databaseName } },
    connect: new FixtureConnectClient({ ...fixture, instanceId: con.instanceId }),
  };
  const cp = await azureCounterparty(az);
  const admin = new Client({ host: standbyPg.host, port: standbyPg.port, user: standbyPg.user, database: 'postgres' });
  await admin.connect();
  await admin.query('CREATE DATABASE standby');
  await admin.end();
  ctx = { s3, ddb, bucket, sources, cp, standby: { host: standbyPg.host, port: standbyPg.port, user: standbyPg.user, database: 'standby' }, motoEndpoint: moto.endpoint };
  // two good nights, copied and verified
  const nightly = async (night: string): Promise<void> => {
    await runPrimaryNight({ plan, s3, ddb, bucket, night, sources });
    const c = await copyNow();
    if (c.result !== 'success') throw new Error(`copy failed: ${c.error}`);
    const v = await verifyNight({ store: cp.store, night });
    if (v.result !== 'success') throw new Error(`night ${night} did not verify: ${JSON.stringify(v.bad)}`);
  };
  await nightly(NIGHT1);
  await writeItems(ddb, tab.tableName, [contactItem(3, 2)]);
  await putRecording(s3, rec.bucketName, recordingKey(1), 21_000); // same size, new content
  await nightly(NIGHT2);
}, 180_000);

afterAll(async () => {
  await Promise.all([moto?.stop(), az?.stop(), primaryPg?.stop(), standbyPg?.stop()]);
});

/** Copies the counterparty's current state of `key` aside and puts it back after `fn`. */
async function tampered<T>(key: string, mutate: () => Promise<void>, fn: () => Promise<T>): Promise<T> {
  const original = await ctx.cp.store.getBytes(key);
  await mutate();
  try {
    return await fn();
  } finally {
    await ctx.cp.store.put(key, original);
  }
}

/** The blob key of a recording in night 2's view (format v2: recordings are stored by content). */
async function recordingBlob(sourceKey: string): Promise<string> {
  const night = await readNight(ctx.cp.store, NIGHT2);
  for await (const e of night.entries('recordings')) if (e.key === sourceKey) return e.blob;
  throw new Error(`${sourceKey} is not in night ${NIGHT2}'s index`);
}

test('a corrupted object on the counterparty is detected and named', async () => {
  const key = await recordingBlob(recordingKey(1)); // rewritten on night 2: a new blob, which night 2's verification hashes
  const r = await tampered(key, async () => {
    const bytes = await ctx.cp.store.getBytes(key);
    bytes[100] ^= 0xff; // same size, different content
    await ctx.cp.store.put(key, bytes);
  }, () => verifyNight({ store: ctx.cp.store, night: NIGHT2, writeRecord: false }));
  expect(r.result).toBe('failure');
  expect(r.bad).toEqual([expect.objectContaining({ key, problem: expect.stringMatching(/^sha256: manifest says [0-9a-f]{64}, found [0-9a-f]{64}$/) })]);
  const line = JSON.parse(r.logLine);
  expect(line).toMatchObject({ event: 'counterparty.verify.night', result: 'failure', night: NIGHT2, bad: [{ key }] });
});

test('a missing object is detected and named', async () => {
  const key = naming.postgresDumpKey(NIGHT2, 'crm');
  const r = await tampered(key, async () => {
    await ctx.cp.store.container.getBlobClient(key).delete();
  }, () => verifyNight({ store: ctx.cp.store, night: NIGHT2, writeRecord: false }));
  // missing data may still be arriving: the night is pending (retried, never success), naming the object
  expect(r.result).toBe('pending');
  expect(r.bad).toEqual([{ key, problem: 'missing' }]);
});

test('a broken chain is detected: an edited earlier manifest', async () => {
  const key = naming.manifestKey(NIGHT1);
  const r = await tampered(key, async () => {
    const m = JSON.parse((await ctx.cp.store.getBytes(key)).toString());
    m.createdAt = '2026-11-01T03:00:00.000Z'; // still a valid manifest, different bytes
    await ctx.cp.store.put(key, `${JSON.stringify(m, null, 2)}\n`);
  }, () => verifyNight({ store: ctx.cp.store, night: NIGHT2, writeRecord: false }));
  expect(r.result).toBe('failure');
  expect(r.chain.status).toBe('broken');
  expect(r.bad).toEqual([expect.objectContaining({ key, problem: expect.stringContaining('chain: previous manifest changed') })]);
});

test('a broken chain is detected: a removed earlier manifest', async () => {
  const key = naming.manifestKey(NIGHT1);
  const r = await tampered(key, async () => {
    await ctx.cp.store.container.getBlobClient(key).delete();
  }, () => verifyNight({ store: ctx.cp.store, night: NIGHT2, writeRecord: false }));
  expect(r.result).toBe('failure');
  expect(r.bad).toEqual([expect.objectContaining({ key, problem: expect.stringContaining('chain: previous manifest missing') })]);
});

test('deleting or overwriting a locked version in the export bucket is refused (moto Object Lock)', async () => {
  const key = naming.manifestKey(NIGHT1);
  const head = await ctx.s3.send(new HeadObjectCommand({ Bucket: ctx.bucket, Key: key }));
  expect(head.ObjectLockMode).toBe('GOVERNANCE');
  const versionId = head.VersionId!;
  const original = await readAll((await ctx.s3.send(new GetObjectCommand({ Bucket: ctx.bucket, Key: key, VersionId: versionId }))).Body as never);
  // deleting the locked version is refused
  await expect(ctx.s3.send(new DeleteObjectCommand({ Bucket: ctx.bucket, Key: key, VersionId: versionId }))).rejects.toMatchObject({ name: expect.stringMatching(/AccessDenied/) });
  // "overwriting" creates a new version; the locked version keeps its bytes
  const put = new PutObjectCommand({ Bucket: ctx.bucket, Key: key, Body: '{"tampered":true}', ChecksumAlgorithm: 'SHA256' });
  await ctx.s3.send(put);
  const versions = await ctx.s3.send(new ListObjectVersionsCommand({ Bucket: ctx.bucket, Prefix: key }));
  expect(versions.Versions?.map((v) => v.VersionId)).toContain(versionId);
  const after = await readAll((await ctx.s3.send(new GetObjectCommand({ Bucket: ctx.bucket, Key: key, VersionId: versionId }))).Body as never);
  expect(after.equals(original)).toBe(true);
  await expect(ctx.s3.send(new DeleteObjectCommand({ Bucket: ctx.bucket, Key: key, VersionId: versionId }))).rejects.toMatchObject({ name: expect.stringMatching(/AccessDenied/) });
  // put the current version back to the original bytes for the other tests (a new version again)
  await ctx.s3.send(new PutObjectCommand({ Bucket: ctx.bucket, Key: key, Body: original, ChecksumAlgorithm: 'SHA256' }));
});

test('the primary goes dark mid-night: the counterparty still restores the last verified night, and says which', async () => {
  const tab = plan.datasets.find((d) => d.kind === 'dynamoDbTable')!;
  if (tab.kind !== 'dynamoDbTable') throw new Error('plan');
  await writeItems(ctx.ddb, tab.tableName, [contactItem(4, 3)]);
  // night 3 runs on the primary; its manifest (and nothing else of it) reaches the counterparty before the primary dies
  await runPrimaryNight({ plan, s3: ctx.s3, ddb: ctx.ddb, bucket: ctx.bucket, night: NIGHT3, sources: ctx.sources });
  const manifest3 = await readAll((await ctx.s3.send(new GetObjectCommand({ Bucket: ctx.bucket, Key: naming.manifestKey(NIGHT3) }))).Body as never);
  await ctx.cp.store.put(naming.manifestKey(NIGHT3), manifest3);
  await moto!.stop();
  moto = undefined;
  // the night's copy now fails: the primary is gone
  const copy = await copyNow();
  expect(copy.result).toBe('failure');
  expect(JSON.parse(copy.logLine)).toMatchObject({ event: 'counterparty.copy', result: 'failure' });
  // verify of the newest night is not a success: pending, naming what never arrived
  const v = await verifyNight({ store: ctx.cp.store, night: 'latest' });
  expect(v).toMatchObject({ night: NIGHT3, result: 'pending' });
  expect(v.bad).toContainEqual({ key: naming.postgresDumpKey(NIGHT3, 'crm'), problem: 'missing' });
  // and the standby is restored from the last verified night, which the result, the status row and the log line name
  const restored = await restoreNight({ store: ctx.cp.store, pg: ctx.standby });
  expect(restored.night).toBe(NIGHT2);
  expect(await restoreStatus(ctx.standby)).toMatchObject({ night: NIGHT2, state: 'complete' });
  const restoreLine = lines.map((l) => JSON.parse(l)).filter((l) => l.event === 'counterparty.restore').pop();
  expect(restoreLine).toMatchObject({ result: 'success', night: NIGHT2 });
  // the standby has night 2's data: item 3 at version 2, item 4 still at version 1 (its night-3 change never left)
  const c = new Client({ host: ctx.standby.host, port: ctx.standby.port, user: ctx.standby.user, database: 'standby' });
  await c.connect();
  const rows = (await c.query(`SELECT "contactId", item->>'version' AS v FROM counterparty.ddb_contact_records WHERE "contactId" IN ('c-0000003', 'c-0000004') ORDER BY 1`)).rows;
  await c.end();
  expect(rows).toEqual([{ contactId: 'c-0000003', v: '2' }, { contactId: 'c-0000004', v: '1' }]);
});
