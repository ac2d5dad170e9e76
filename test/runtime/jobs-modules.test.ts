/**
 * Exporters, sync-objects, copy and the restorer against real components: moto_server (S3 with
 * Object Lock, DynamoDB), Azurite (rclone's destination) and PostgreSQL 15 (pg_dump/pg_restore).
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { GetObjectCommand, HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { Client } from 'pg';
import { naming } from '../../lib/core';
import { setLogSink } from '../../lib/runtime/log';
import { exportPostgres } from '../../lib/runtime/exporters/postgres';
import { exportDynamoDbTable, waitForDynamoDbExport } from '../../lib/runtime/exporters/dynamodb';
import { syncObjects, SOURCE_ETAG_METADATA } from '../../lib/runtime/sync-objects';
import { parseRcloneStats, rcloneEnv, runCopy } from '../../lib/runtime/copy';
import { buildManifest } from '../../lib/runtime/manifest';
import { verifyNight } from '../../lib/runtime/verifier';
import { restoreNight, restoreStatus, dynamoDataFiles, parseDynamoKeys, parsePgDatabases, type PgTarget } from '../../lib/runtime/restorer';
import { itemToJsonText } from '../../lib/runtime/dynamodb-json';
import { FileStore, S3Store, readAll } from '../../lib/runtime/stores';
import { sha256Hex } from '../../lib/runtime/util';
import { startAzurite, startMoto, startPostgres, type AzuriteService, type MotoService, type PostgresService } from '../../scripts/services';
import { awsClients, azureCounterparty, createBucket, createExportBucket, drillPlan, motoEnv } from '../../scripts/drill/primary';
import { contactItem, createContactTable, seedCrm, writeItems } from '../../scripts/drill/seed';

let moto: MotoService;
let az: AzuriteService;
let pg: PostgresService;
let dir: string;
const lines: string[] = [];
const plan = drillPlan();
let clients: ReturnType<typeof awsClients>;
let bucket: string;
const pgConn = (): { host: string; port: number; user: string } => ({ host: pg.host, port: pg.port, user: pg.user });

beforeAll(async () => {
  setLogSink({ line: (l) => { lines.push(l); } });
  [moto, az, pg] = await Promise.all([startMoto(), startAzurite(), startPostgres('jobs')]);
  clients = awsClients(moto.endpoint, plan.primary.region);
  bucket = (await createExportBucket(clients.s3, plan)).bucket;
  await seedCrm(pgConn(), 'crm', { recordings: 0, recordingBytes: 0, contactRecords: 0, crmCustomers: 300 });
  dir = mkdtempSync(join(tmpdir(), 'cp-jobs-'));
}, 90_000);

afterAll(async () => {
  await Promise.all([moto?.stop(), az?.stop(), pg?.stop()]);
  rmSync(dir, { recursive: true, force: true });
});

test('export-postgres streams pg_dump -Fc into the locked export bucket', async () => {
  const store = new S3Store(bucket, clients.s3);
  const key = naming.postgresDumpKey('2026-11-01', 'crm');
  const r = await exportPostgres({ store, key, connection: { ...pgConn(), database: 'crm' } });
  const body = await readAll((await clients.s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }))).Body as never);
  expect(body.length).toBe(r.bytes);
  expect(sha256Hex(body)).toBe(r.sha256);
  expect(body.subarray(0, 5).toString()).toBe('PGDMP');
  writeFileSync(join(dir, 'd.pgdump'), body);
  const list = spawnSync('pg_restore', ['-l', join(dir, 'd.pgdump')], { encoding: 'utf8' });
  expect(list.stdout).toMatch(/TABLE DATA public customers/);
});

test('export-postgres fails with pg_dump\'s error and leaves no object behind', async () => {
  const store = new S3Store(bucket, clients.s3);
  const key = naming.postgresDumpKey('2026-11-01', 'nope');
  await expect(exportPostgres({ store, key, connection: { ...pgConn(), database: 'does_not_exist' } })).rejects.toThrow(/pg_dump exited 1: .*does_not_exist/);
  expect(await store.head(key)).toBeUndefined();
});

test('export-dynamodb writes table.json and a real export under the night prefix, then waits for it', async () => {
  await createContactTable(clients.ddb, 'contacts-test');
  await writeItems(clients.ddb, 'contacts-test', Array.from({ length: 30 }, (_, i) => contactItem(i)));
  const store = new S3Store(bucket, clients.s3);
  const prefix = naming.datasetNightPrefix('2026-11-01', 'contact-records');
  const r = await exportDynamoDbTable({ client: clients.ddb, tableName: 'contacts-test', bucket, prefix, store, pollMs: 100 });
  expect(r).toMatchObject({ status: 'COMPLETED', itemCount: 30 });
  const keys: string[] = [];
  for await (const o of store.list(prefix)) keys.push(o.key);
  expect(keys).toContain(`${prefix}table.json`);
  expect(keys.some((k) => /AWSDynamoDB\/[^/]+\/data\/[^/]+\.gz$/.test(k))).toBe(true);
  expect(JSON.parse((await store.getBytes(`${prefix}table.json`)).toString()).KeySchema).toEqual([{ AttributeName: 'contactId', KeyType: 'HASH' }]);
});

test('the DynamoDB waiter polls until COMPLETED and reports FAILED exports', async () => {
  const states = ['IN_PROGRESS', 'IN_PROGRESS', 'COMPLETED'];
  const polls: number[] = [];
  const ok = { send: async () => ({ ExportDescription: { ExportStatus: states.shift() } }) };
  await expect(waitForDynamoDbExport(ok as never, 'arn:x', { pollMs: 7, sleep: async (ms) => { polls.push(ms); } })).resolves.toMatchObject({ ExportStatus: 'COMPLETED' });
  expect(polls).toEqual([7, 7]);
  const failed = { send: async () => ({ ExportDescription: { ExportStatus: 'FAILED', FailureCode: 'S3NoSuchBucket', FailureMessage: 'gone' } }) };
  await expect(waitForDynamoDbExport(failed as never, 'arn:y', { sleep: async () => undefined })).rejects.toThrow('DynamoDB export arn:y failed: S3NoSuchBucket gone');
});

test('sync-objects copies new and changed objects only, with a full-object SHA-256 the manifest can reuse', async () => {
  await createBucket(clients.s3, 'sync-source', plan.primary.region);
  for (let i = 0; i < 6; i++) await clients.s3.send(new PutObjectCommand({ Bucket: 'sync-source', Key: `calls/${i}.wav`, Body: Buffer.alloc(1000 + i, i) }));
  const opts = { s3: clients.s3, sourceBucket: 'sync-source', exportBucket: bucket, dataset: 'sync-test', emulatorChecksumHeader: true };
  const first = await syncObjects(opts);
  expect(first).toMatchObject({ examined: 6, copied: 6, skipped: 0, bytesCopied: 6015 });
  const head = await clients.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'objects/sync-test/calls/2.wav', ChecksumMode: 'ENABLED' }));
  expect(Buffer.from(head.ChecksumSHA256!, 'base64').toString('hex')).toBe(sha256Hex(Buffer.alloc(1002, 2)));
  expect(head.Metadata?.[SOURCE_ETAG_METADATA]).toBeTruthy();
  expect(await syncObjects(opts)).toMatchObject({ copied: 0, skipped: 6 });
  await new Promise((r) => setTimeout(r, 1100)); // S3 LastModified has 1 s resolution
  await clients.s3.send(new PutObjectCommand({ Bucket: 'sync-source', Key: 'calls/3.wav', Body: Buffer.alloc(1003, 99) })); // same size, new content
  await clients.s3.send(new PutObjectCommand({ Bucket: 'sync-source', Key: 'calls/new.wav', Body: 'new' }));
  const third = await syncObjects(opts);
  expect(third).toMatchObject({ examined: 7, copied: 2, skipped: 5, copiedKeys: ['objects/sync-test/calls/3.wav', 'objects/sync-test/calls/new.wav'] });
  const store = new S3Store(bucket, clients.s3);
  expect(sha256Hex(await store.getBytes('objects/sync-test/calls/3.wav'))).toBe(sha256Hex(Buffer.alloc(1003, 99)));
});

test('copy: rclone moves the export bucket to Azurite, then only what changed', async () => {
  await createBucket(clients.s3, 'copy-source', plan.primary.region);
  const src = new S3Store('copy-source', clients.s3);
  for (let i = 0; i < 5; i++) await src.put(`objects/r/${i}.wav`, Buffer.alloc(10_000, i));
  const cp = await azureCounterparty(az, 'copytest');
  const run = (): ReturnType<typeof runCopy> => runCopy({
    source: { bucket: 'copy-source', region: plan.primary.region, endpoint: moto.endpoint },
    destination: { account: az.account, container: 'copytest', sasUrl: cp.sasUrl },
    auth: 'env', env: { ...process.env, ...motoEnv(moto.endpoint, plan.primary.region) },
  });
  const first = await run();
  expect(first).toMatchObject({ result: 'success', objects: 5, bytes: 50_000 });
  expect(JSON.parse(first.logLine)).toMatchObject({ event: 'counterparty.copy', result: 'success', objects: 5, bytes: 50_000 });
  expect(await run()).toMatchObject({ result: 'success', objects: 0, bytes: 0, checks: 5 });
  await new Promise((r) => setTimeout(r, 1100));
  await src.put('objects/r/2.wav', Buffer.alloc(10_000, 42)); // same size, new content
  await src.put('nights/2026-11-02/manifest.json', '{}');
  const third = await run();
  expect(third).toMatchObject({ result: 'success', objects: 2, bytes: 10_002 });
  expect((await cp.store.getBytes('objects/r/2.wav')).equals(Buffer.alloc(10_000, 42))).toBe(true);
});

test('copy: the keyless path gets an Entra token, writes it to a file and gives rclone web identity + MSI', async () => {
  // a stand-in rclone that records what it was given (the real one would call AWS STS and Azure)
  const fake = join(dir, 'fake-rclone');
  writeFileSync(fake, `#!/bin/sh\n{ env | grep -E '^(AWS_|RCLONE_CONFIG_)' | sort; echo "TOKEN=$(cat "$AWS_WEB_IDENTITY_TOKEN_FILE")"; echo "ARGS=$*"; } > "${join(dir, 'rclone-seen')}"\necho '{"level":"info","msg":"done","stats":{"bytes":7,"transfers":1,"checks":2,"errors":0}}'\n`);
  chmodSync(fake, 0o755);
  const scopes: string[] = [];
  const r = await runCopy({
    source: { bucket: 'acme-cc-exports-111122223333-eu-central-1', region: 'eu-central-1' },
    destination: { account: 'acmeccvault', container: 'exports' },
    auth: 'managed-identity', tokenAudience: 'api://AzureADTokenExchange', clientId: 'client-123', roleArn: 'arn:aws:iam::111122223333:role/counterparty/acme-cc-azure-reader',
    credential: { getToken: async (scope) => { scopes.push(String(scope)); return { token: 'entra-token-abc', expiresOnTimestamp: Date.now() + 3600e3 }; } },
    rclone: fake, env: { PATH: process.env.PATH, AWS_CA_BUNDLE: '/etc/ssl/certs/ca-certificates.crt', AWS_ACCESS_KEY_ID: 'should-not-pass' },
  });
  expect(r).toMatchObject({ result: 'success', bytes: 7, objects: 1 });
  expect(scopes).toEqual(['api://AzureADTokenExchange/.default']);
  const seen = readFileSync(join(dir, 'rclone-seen'), 'utf8');
  expect(seen).toContain('TOKEN=entra-token-abc');
  expect(seen).toContain('AWS_ROLE_ARN=arn:aws:iam::111122223333:role/counterparty/acme-cc-azure-reader');
  expect(seen).toContain('RCLONE_CONFIG_SRC_ENV_AUTH=true');
  expect(seen).toContain('RCLONE_CONFIG_DST_USE_MSI=true');
  expect(seen).toContain('RCLONE_CONFIG_DST_MSI_CLIENT_ID=client-123');
  expect(seen).toContain('RCLONE_CONFIG_DST_ACCOUNT=acmeccvault');
  expect(seen).not.toMatch(/AWS_CA_BUNDLE|AWS_ACCESS_KEY_ID/);
  expect(seen).toMatch(/ARGS=copy src:acme-cc-exports-111122223333-eu-central-1 dst:exports /);
});

test('copy helpers: rclone stats parsing and env-auth configuration', () => {
  expect(parseRcloneStats('noise\n{"level":"info","stats":{"bytes":1,"transfers":1}}\n{"level":"info","stats":{"bytes":9,"transfers":3,"checks":4,"errors":1}}\n')).toEqual({ bytes: 9, transfers: 3, checks: 4, errors: 1 });
  expect(parseRcloneStats('nothing')).toBeUndefined();
  const env = rcloneEnv({ source: { bucket: 'b', region: 'r', endpoint: 'http://localhost:1' }, destination: { account: 'a', container: 'c', accountKey: 'k', endpoint: 'http://127.0.0.1:2/a' }, auth: 'env', env: { AWS_CA_BUNDLE: 'x' } });
  expect(env).toMatchObject({ RCLONE_CONFIG_SRC_PROVIDER: 'Other', RCLONE_CONFIG_SRC_ENDPOINT: 'http://localhost:1', RCLONE_CONFIG_DST_KEY: 'k', RCLONE_CONFIG_DST_ENDPOINT: 'http://127.0.0.1:2/a' });
  expect(env.AWS_CA_BUNDLE).toBeUndefined();
  expect(() => rcloneEnv({ source: { bucket: 'b', region: 'r' }, destination: { account: 'a', container: 'c' }, auth: 'env' })).toThrow(/CP_AZURE_BLOB_SAS_URL or CP_AZURE_BLOB_KEY/);
});

describe('restorer', () => {
  let store: FileStore;
  let standby: PgTarget;
  const NIGHT = '2026-11-05';
  beforeAll(async () => {
    store = new FileStore(join(dir, 'counterparty'));
    const admin = new Client({ ...pgConn(), database: 'postgres' });
    await admin.connect();
    await admin.query('CREATE DATABASE standby');
    await admin.end();
    standby = { ...pgConn(), database: 'standby' };
    // a night as the counterparty holds it: a real pg_dump, a DynamoDB export, Connect JSON, objects
    const dump = spawnSync('pg_dump', ['-Fc', '-h', pg.host, '-p', String(pg.port), '-U', pg.user, '-d', 'crm'], { maxBuffer: 1 << 28 });
    expect(dump.status).toBe(0);
    await store.put(naming.postgresDumpKey(NIGHT, 'crm'), dump.stdout);
    const items = Array.from({ length: 1234 }, (_, i) => contactItem(i));
    const prefix = naming.datasetNightPrefix(NIGHT, 'contact-records');
    await store.put(`${prefix}AWSDynamoDB/0123-abc/data/part-0.json.gz`, gzipSync(items.slice(0, 600).map((Item) => JSON.stringify({ Item })).join('\n')));
    await store.put(`${prefix}AWSDynamoDB/0123-abc/data/part-1.json.gz`, gzipSync(items.slice(600).map((Item) => JSON.stringify({ Item })).join('\n') + '\n'));
    await store.put(`${prefix}AWSDynamoDB/0123-abc/manifest-summary.json`, '{"exportArn":"x"}');
    await store.put(`${prefix}table.json`, JSON.stringify({ KeySchema: [{ AttributeName: 'contactId', KeyType: 'HASH' }], AttributeDefinitions: [{ AttributeName: 'contactId', AttributeType: 'S' }] }));
    await store.put(`${naming.datasetNightPrefix(NIGHT, 'connect')}queues.json`, '[{"Id":"q1","Name":"Sales"}]');
    await store.put(`${naming.datasetNightPrefix(NIGHT, 'connect')}index.json`, '{"formatVersion":1}');
    await store.put(`${naming.datasetNightPrefix(NIGHT, 'connect')}prompts/p1.wav`, 'RIFF');
    await store.put('objects/recordings/a.wav', 'aaaa');
    await buildManifest({ store, night: NIGHT, datasets: [{ name: 'crm', kind: 'postgres' }, { name: 'contact-records', kind: 'dynamoDbTable' }, { name: 'connect', kind: 'connectInstance' }, { name: 'recordings', kind: 's3Bucket' }] });
  });

  async function snapshot(): Promise<Record<string, unknown>> {
    const c = new Client({ ...pgConn(), database: 'standby' });
    await c.connect();
    const ddb = (await c.query(`SELECT count(*)::int AS n, md5(string_agg("contactId" || item::text, ',' ORDER BY "contactId")) AS h FROM counterparty.ddb_contact_records`)).rows[0];
    const objects = (await c.query('SELECT dataset, key, size, sha256, location FROM counterparty.objects ORDER BY key')).rows;
    const connect = (await c.query('SELECT night, dataset, resource_type, document FROM counterparty.connect_config ORDER BY resource_type')).rows;
    await c.end();
    const crm = new Client({ ...pgConn(), database: 'crm' });
    await crm.connect();
    const customers = (await crm.query(`SELECT count(*)::int AS n, md5(string_agg(c::text, ',' ORDER BY id)) AS h FROM customers c`)).rows[0];
    await crm.end();
    return { ddb, objects, connect, customers };
  }

  test('an unverified night is refused', async () => {
    await expect(restoreNight({ store, pg: standby })).rejects.toThrow(/no verified night/);
    await expect(restoreNight({ store, pg: standby, night: NIGHT })).rejects.toThrow(/not verified/);
  });

  test('restores a verified night: pg_restore, DynamoDB items as key + JSONB, objects, Connect JSON; twice gives the same standby', async () => {
    expect((await verifyNight({ store, night: NIGHT })).result).toBe('success');
    const r = await restoreNight({ store, pg: standby, batchSize: 500 });
    expect(r).toMatchObject({ night: NIGHT, dynamodb: [{ dataset: 'contact-records', items: 1234 }], objects: 9, connectDocuments: 2 });
    expect(await restoreStatus(standby)).toMatchObject({ night: NIGHT, state: 'complete' });
    const first = await snapshot();
    expect((first.ddb as { n: number }).n).toBe(1234);
    expect((first.customers as { n: number }).n).toBe(300);
    expect((first.connect as unknown[]).length).toBe(2);
    const c = new Client({ ...pgConn(), database: 'standby' });
    await c.connect();
    const row = (await c.query(`SELECT item FROM counterparty.ddb_contact_records WHERE "contactId" = 'c-0000007'`)).rows[0];
    await c.end();
    expect(row.item).toEqual(JSON.parse(itemToJsonText(contactItem(7) as never)));
    await restoreNight({ store, pg: standby });
    expect(await snapshot()).toEqual(first);
  });

  test('a postgres dataset restores into the database CP_PG_DATABASES names (its name on the primary)', async () => {
    expect((await verifyNight({ store, night: NIGHT })).result).toBe('success');
    const r = await restoreNight({ store, pg: standby, pgDatabases: parsePgDatabases('crm=crm_primary_name') });
    expect(r.postgres).toEqual([expect.objectContaining({ dataset: 'crm', database: 'crm_primary_name' })]);
    const c = new Client({ ...pgConn(), database: 'crm_primary_name' });
    await c.connect();
    const n = (await c.query('SELECT count(*)::int AS n FROM customers')).rows[0].n;
    await c.end();
    expect(n).toBe(300);
    expect(parsePgDatabases('crm=crm_main; billing=billing')).toEqual({ crm: 'crm_main', billing: 'billing' });
    expect(() => parsePgDatabases('crm')).toThrow(/CP_PG_DATABASES: "crm" is not dataset=database/);
    expect(() => parsePgDatabases('crm=a;b')).toThrow(/CP_PG_DATABASES/);
    expect(() => parsePgDatabases('crm=x y')).toThrow(/CP_PG_DATABASES/);
  });

  test('a restore that fails part-way never looks complete', async () => {
    expect((await verifyNight({ store, night: NIGHT })).result).toBe('success');
    const part = `${naming.datasetNightPrefix(NIGHT, 'contact-records')}AWSDynamoDB/0123-abc/data/part-1.json.gz`;
    const good = await store.getBytes(part);
    await store.put(part, gzipSync('{"Item":{"contactId":{"S":"tampered"}}}'));
    try {
      await expect(restoreNight({ store, pg: standby })).rejects.toThrow(/does not match the manifest/);
      expect(await restoreStatus(standby)).toMatchObject({ night: NIGHT, state: 'failed' });
      expect(JSON.parse(lines.filter((l) => l.includes('counterparty.restore')).pop()!)).toMatchObject({ result: 'failure', night: NIGHT });
    } finally {
      await store.put(part, good);
    }
    await restoreNight({ store, pg: standby });
    expect(await restoreStatus(standby)).toMatchObject({ state: 'complete' });
  });

  test('DynamoDB export files and keys configuration', () => {
    const ds = { name: 'd', kind: 'dynamoDbTable' as const, prefix: 'nights/2026-11-05/d/', objects: 0, bytes: 0 };
    const e = (key: string) => ({ key: `nights/2026-11-05/d/${key}`, size: 1, sha256: 'a'.repeat(64), dataset: 'd' });
    expect(dynamoDataFiles(ds, [e('AWSDynamoDB/1/data/a.json.gz'), e('AWSDynamoDB/2/data/b.json.gz'), e('AWSDynamoDB/1/manifest-summary.json')]).map((x) => x.key)).toEqual(['nights/2026-11-05/d/AWSDynamoDB/1/data/a.json.gz']);
    expect(parseDynamoKeys('contact-records=contactId; profiles=tenant,profileId')).toEqual({ 'contact-records': ['contactId'], profiles: ['tenant', 'profileId'] });
    expect(() => parseDynamoKeys('oops')).toThrow(/CP_DYNAMODB_KEYS/);
  });
});
