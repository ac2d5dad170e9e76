/**
 * Exporters, sync-objects, copy and the restorer against real components: moto_server (S3 with
 * Object Lock, DynamoDB), Azurite (rclone's destination) and PostgreSQL 15 (pg_dump/pg_restore).
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { Client } from 'pg';
import { naming } from '../../lib/core';
import { setLogSink } from '../../lib/runtime/log';
import { exportPostgres } from '../../lib/runtime/exporters/postgres';
import { exportDynamoDbTable, waitForDynamoDbExport } from '../../lib/runtime/exporters/dynamodb';
import { parseRcloneStats, rcloneEnv, runCopy } from '../../lib/runtime/copy';

import { verifyNight } from '../../lib/runtime/verifier';
import { restoreNight, restoreStatus, dynamoDataFiles, parseDynamoKeys, parsePgDatabases, type PgTarget } from '../../lib/runtime/restorer';
import { attributeValueToJson, itemFromJson, itemToJsonText, type AttributeValueJson, type TypedAttributeValue } from '../../lib/runtime/dynamodb-json';
import { marshall, NumberValueImpl as NumberValue } from '@aws-sdk/util-dynamodb';
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { FIXTURE_DATASETS, writeNight } from './night-fixture';
import { runCommand } from '../../lib/runtime/jobs';
import { setErrorSink } from '../../lib/runtime/log';
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
  setErrorSink({ line: () => undefined });
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

// sync-objects (format v2: index + content-addressed blobs) is tested in test/runtime/sync-copy.test.ts.

test('copy: rclone moves the export bucket to Azurite, then only what is new, and never replaces an existing key', async () => {
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
  expect(third).toMatchObject({ result: 'success', objects: 1, bytes: 2 }); // the new manifest only
  expect((await cp.store.getBytes('objects/r/2.wav')).equals(Buffer.alloc(10_000, 2))).toBe(true); // written once, never replaced (format v2: keys are never reused)
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
    rclone: fake, env: { PATH: process.env.PATH, AWS_CA_BUNDLE: '/etc/ssl/certs/ca-certificates.crt', AWS_ACCESS_KEY_ID: 'should-not-pass' }, mode: 'full',
  });
  expect(r).toMatchObject({ result: 'success', bytes: 14, objects: 2 }); // two rclone runs: the data phase, then the manifests
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
  // The standby is a SECOND cluster: nothing restored can be mistaken for the source database.
  let standbyPg: PostgresService;
  let store: FileStore;
  let standby: PgTarget;
  const NIGHT = '2026-11-05';
  const NIGHT2 = '2026-11-06';
  const standbyConn = (database: string): { host: string; port: number; user: string; database: string } => ({ host: standbyPg.host, port: standbyPg.port, user: standbyPg.user, database });
  const contacts = Array.from({ length: 1234 }, (_, i) => contactItem(i)) as Record<string, unknown>[];
  const connect = { queues: [{ Id: 'q1', Name: 'Sales' }], 'contact-flows': [{ Id: 'f1' }, { Id: 'f2' }] };
  let dump: Buffer;

  async function query<T = Record<string, unknown>>(database: string, sql: string, params: unknown[] = []): Promise<T[]> {
    const c = new Client(standbyConn(database));
    await c.connect();
    try { return (await c.query(sql, params)).rows as T[]; } finally { await c.end(); }
  }

  beforeAll(async () => {
    standbyPg = await startPostgres('standby');
    const admin = new Client(standbyConn('postgres'));
    await admin.connect();
    await admin.query('CREATE DATABASE standby');
    await admin.end();
    standby = { host: standbyPg.host, port: standbyPg.port, user: standbyPg.user, database: 'standby' };
    store = new FileStore(join(dir, 'counterparty'));
    // a real pg_dump of the source CRM (with an extension in it), a DynamoDB export, Connect JSON, recordings
    const src = new Client({ ...pgConn(), database: 'crm' });
    await src.connect();
    await src.query('CREATE EXTENSION IF NOT EXISTS citext');
    await src.end();
    const d = spawnSync('pg_dump', ['-Fc', '-h', pg.host, '-p', String(pg.port), '-U', pg.user, '-d', 'crm'], { maxBuffer: 1 << 28 });
    expect(d.status).toBe(0);
    dump = d.stdout;
    const n1 = await writeNight(store, NIGHT, { recordings: new Map([['calls/a.wav', 'aaaa'], ['calls/b.wav', 'bbbbbb']]), crm: dump, contacts: { items: contacts, keySchema: 'contactId' }, connect });
    await writeNight(store, NIGHT2, { recordings: new Map([['calls/a.wav', 'aaaa'], ['calls/c.wav', 'cc']]), previous: n1.recordings, crm: dump, contacts: { items: contacts, keySchema: 'contactId' }, connect });
  }, 90_000);
  afterAll(async () => { await standbyPg?.stop(); });

  async function snapshot(): Promise<Record<string, unknown>> {
    const ddb = (await query('standby', `SELECT count(*)::int AS n, md5(string_agg("contactId" || item::text || item_typed::text, ',' ORDER BY "contactId")) AS h FROM counterparty.ddb_contacts`))[0];
    const objects = await query('standby', 'SELECT dataset, key, size, sha256, location FROM counterparty.objects ORDER BY key');
    const connectRows = await query('standby', 'SELECT night, dataset, resource_type, document FROM counterparty.connect_config ORDER BY night, resource_type');
    const customers = (await query('crm', `SELECT count(*)::int AS n, md5(string_agg(c::text, ',' ORDER BY id)) AS h FROM customers c`))[0];
    return { ddb, objects, connect: connectRows, customers };
  }

  async function freshDatabasesLeft(): Promise<string[]> {
    return (await query<{ datname: string }>('postgres', `SELECT datname FROM pg_database WHERE datname LIKE '%\_\_cp\_%'`)).map((r) => r.datname);
  }

  test('an unverified night is refused (not-verified), with its failure line', async () => {
    await expect(restoreNight({ store, pg: standby })).rejects.toThrow(/no verified night/);
    await expect(restoreNight({ store, pg: standby, night: NIGHT })).rejects.toMatchObject({ reason: 'not-verified' });
    expect(JSON.parse(lines.filter((l) => l.includes('"counterparty.restore"')).pop()!)).toMatchObject({ result: 'failure', reason: 'not-verified' });
  });

  test('restores a verified night into the standby cluster: every CRM row, DynamoDB items (plain + typed), the recordings view, Connect JSON; twice gives the same standby', async () => {
    expect((await verifyNight({ store, night: NIGHT })).result).toBe('success');
    const r = await restoreNight({ store, pg: standby, night: NIGHT, batchSize: 500, datasets: [...FIXTURE_DATASETS] });
    expect(r).toMatchObject({ night: NIGHT, dynamodb: [{ dataset: 'contacts', items: 1234 }], objects: 2, connectDocuments: 3, postgres: [{ dataset: 'crm', database: 'crm' }] });
    expect(r.postgres[0].tables).toBeGreaterThanOrEqual(4);
    expect(JSON.parse(r.logLine)).toMatchObject({ event: 'counterparty.restore', result: 'success', newestRestoredNight: NIGHT, dataAgeHours: expect.any(Number) });
    expect(await restoreStatus(standby)).toMatchObject({ night: NIGHT, state: 'complete', attempt: { state: 'complete' } });
    const first = await snapshot();
    expect((first.ddb as { n: number }).n).toBe(1234);
    expect((first.customers as { n: number }).n).toBe(300); // read from the STANDBY cluster's crm
    expect((first.objects as { key: string }[]).map((o) => o.key)).toEqual(['calls/a.wav', 'calls/b.wav']);
    const row = (await query<{ item: unknown }>('standby', `SELECT item FROM counterparty.ddb_contacts WHERE "contactId" = 'c-0000007'`))[0];
    expect(row.item).toEqual(JSON.parse(itemToJsonText(contactItem(7) as never)));
    expect(await freshDatabasesLeft()).toEqual([]);
    await restoreNight({ store, pg: standby, night: NIGHT });
    expect(await snapshot()).toEqual(first);
    expect(await freshDatabasesLeft()).toEqual([]);
  });

  test('a postgres dataset restores into the database CP_PG_DATABASES names (its name on the primary)', async () => {
    const r = await restoreNight({ store, pg: standby, night: NIGHT, pgDatabases: parsePgDatabases('crm=crm_primary_name') });
    expect(r.postgres).toEqual([expect.objectContaining({ dataset: 'crm', database: 'crm_primary_name' })]);
    expect((await query<{ n: number }>('crm_primary_name', 'SELECT count(*)::int AS n FROM customers'))[0].n).toBe(300);
    expect(parsePgDatabases('crm=crm_main; billing=billing')).toEqual({ crm: 'crm_main', billing: 'billing' });
    expect(() => parsePgDatabases('crm')).toThrow(/CP_PG_DATABASES: "crm" is not dataset=database/);
    expect(() => parsePgDatabases('crm=a;b')).toThrow(/CP_PG_DATABASES/);
    expect(() => parsePgDatabases('crm=x y')).toThrow(/CP_PG_DATABASES/);
  });

  test('a restore that fails part-way switches nothing: the standby keeps its night and its data, no fresh database is left', async () => {
    // a marker only the live standby database has: a switch to a freshly restored database would lose it
    await query('crm', 'CREATE TABLE IF NOT EXISTS standby_marker (x int)');
    const before = await snapshot();
    const part = `${naming.datasetNightPrefix(NIGHT, 'contacts')}AWSDynamoDB/0001-export/data/part-0.json.gz`;
    const good = await store.getBytes(part);
    await store.put(part, gzipSync('{"Item":{"contactId":{"S":"tampered"}}}\n'));
    try {
      await expect(restoreNight({ store, pg: standby, night: NIGHT })).rejects.toMatchObject({ reason: 'restore-failed', message: expect.stringMatching(/does not match the manifest/) });
      expect(await restoreStatus(standby)).toMatchObject({ night: NIGHT, state: 'complete', attempt: { night: NIGHT, state: 'failed', error: expect.stringMatching(/does not match/) } });
      expect(JSON.parse(lines.filter((l) => l.includes('"counterparty.restore"')).pop()!)).toMatchObject({ result: 'failure', reason: 'restore-failed', night: NIGHT });
      expect(await snapshot()).toEqual(before);
      expect(await query('crm', 'SELECT * FROM standby_marker')).toEqual([]); // the table is still there: nothing was switched
      expect(await freshDatabasesLeft()).toEqual([]);
    } finally {
      await store.put(part, good);
    }
  });

  test('cancelled: the abort stops the restore, its failure line says cancelled, nothing is switched or left', async () => {
    const before = await snapshot();
    const ctl = new AbortController();
    const p = restoreNight({ store, pg: standby, night: NIGHT, signal: ctl.signal });
    setTimeout(() => ctl.abort(new Error('SIGTERM received')), 50);
    await expect(p).rejects.toMatchObject({ reason: 'cancelled' });
    expect(await query('crm', 'SELECT * FROM standby_marker')).toEqual([]);
    expect(JSON.parse(lines.filter((l) => l.includes('"counterparty.restore"')).pop()!)).toMatchObject({ result: 'failure', reason: 'cancelled' });
    expect(await snapshot()).toEqual(before);
    expect(await freshDatabasesLeft()).toEqual([]);
    expect(spawnSync('bash', ['-c', `ps -eo args | grep -c '[_]_cp_${NIGHT.replace(/-/g, '')}' || true`], { encoding: 'utf8' }).stdout.trim()).toBe('0');
  });

  test('an older night than the last restored is refused (older-night) unless forced', async () => {
    expect((await verifyNight({ store, night: NIGHT2 })).result).toBe('success');
    expect((await restoreNight({ store, pg: standby })).night).toBe(NIGHT2);
    await expect(restoreNight({ store, pg: standby, night: NIGHT })).rejects.toMatchObject({ reason: 'older-night' });
    expect(JSON.parse(lines.filter((l) => l.includes('"counterparty.restore"')).pop()!)).toMatchObject({ result: 'failure', reason: 'older-night', error: expect.stringMatching(/older than night 2026-11-06/) });
    expect(await restoreStatus(standby)).toMatchObject({ night: NIGHT2, state: 'complete' });
    expect((await restoreNight({ store, pg: standby, night: NIGHT, force: true })).night).toBe(NIGHT);
    expect((await query<{ n: number }>('standby', `SELECT count(*)::int AS n FROM counterparty.objects WHERE key = 'calls/b.wav'`))[0].n).toBe(1); // night 1's view
    expect((await restoreNight({ store, pg: standby, night: NIGHT2, force: true })).night).toBe(NIGHT2);
  });

  test('the jobs CLI verb verify-and-restore: two jobs, exactly one result line each, exit 0; a failing restore makes it non-zero', async () => {
    const env = { CP_STORE: `file://${store.root}`, PGHOST: standby.host, PGPORT: String(standby.port), PGUSER: standby.user, PGDATABASE: 'standby', CP_DATASETS: 'recordings:s3Bucket,crm:postgres,contacts:dynamoDbTable,connect:connectInstance', CP_DYNAMODB_KEYS: 'contacts=contactId' };
    const from = lines.length;
    expect(await runCommand('verify-and-restore', env)).toBe(0);
    const results = lines.slice(from).map((l) => JSON.parse(l)).filter((l) => l.event === 'counterparty.verify' || l.event === 'counterparty.restore');
    expect(results).toEqual([expect.objectContaining({ event: 'counterparty.verify', result: 'success' }), expect.objectContaining({ event: 'counterparty.restore', result: 'success', night: NIGHT2 })]);
    const again = lines.length;
    expect(await runCommand('restore', { ...env, CP_NIGHT: NIGHT })).toBe(2); // older than the last restored: refused
    expect(lines.slice(again).map((l) => JSON.parse(l))).toEqual([expect.objectContaining({ event: 'counterparty.restore', result: 'failure', reason: 'older-night' })]);
  });

  test('a night without a dataset of the plan is not restored (incomplete-night)', async () => {
    await expect(restoreNight({ store, pg: standby, datasets: [...FIXTURE_DATASETS, { name: 'billing', kind: 'postgres' }] })).rejects.toMatchObject({ reason: 'incomplete-night' });
  });

  test('DynamoDB types survive losslessly: S, N (big and precise), B, BOOL, NULL, M, L, SS, NS, BS', async () => {
    const items = [
      { id: 'all-types', s: 'text ü', n: 12345678901234567890123456789012345678n, tiny: '0.000000000000000000000000000000000001', neg: '-1.50', b: new Uint8Array([0, 1, 2, 255]), t: true, f: false, nul: null,
        m: { nested: { deeper: ['x', 1] } }, l: ['a', 2, true, null], ss: new Set(['b', 'a']), ns: new Set(['3.10', '1', '99999999999999999999999999999999999999']), bs: new Set([new Uint8Array([1]), new Uint8Array([2, 3])]) },
      { id: 'looks-like-s', b: new Uint8Array(Buffer.from('hello')), ss: new Set(['1']), ns: new Set(['1']), l: ['1'] },
    ];
    const asAv = items.map((it) => marshall(Object.fromEntries(Object.entries(it).map(([k, v]) => [k, k === 'tiny' || k === 'neg' ? NumberValue.from(v as string) : typeof v === 'bigint' ? NumberValue.from(v.toString()) : k === 'ns' ? new Set([...(v as Set<string>)].map((x) => NumberValue.from(x))) : v])), { removeUndefinedValues: true }));
    const jsonItems = asAv.map((av) => Object.fromEntries(Object.entries(av).map(([k, v]) => [k, attributeValueToJson(v as TypedAttributeValue)])));
    const typed = new FileStore(join(dir, 'typed'));
    await writeNight(typed, '2026-11-07', { crm: dump, contacts: { items: jsonItems } });
    expect((await verifyNight({ store: typed, night: '2026-11-07' })).result).toBe('success');
    const tstandby = { ...standby, database: 'typed' };
    await query('postgres', 'CREATE DATABASE typed');
    await restoreNight({ store: typed, pg: tstandby, night: '2026-11-07', pgDatabases: { crm: 'typed_crm' } });
    const rows = await query<{ id: string; item_typed: Record<string, AttributeValueJson> }>('typed', 'SELECT id, item_typed FROM counterparty.ddb_contacts ORDER BY id');
    expect(rows.map((r) => r.id)).toEqual(['all-types', 'looks-like-s']);
    for (const row of rows) {
      const original = asAv[items.findIndex((it) => it.id === row.id)];
      expect(itemFromJson(row.item_typed)).toEqual(original); // every type and every digit back, as the SDK would write it
    }
    const back = itemFromJson(rows[0].item_typed) as Record<string, AttributeValue>;
    expect(back.n).toEqual({ N: '12345678901234567890123456789012345678' });
    expect(back.tiny).toEqual({ N: '0.000000000000000000000000000000000001' });
    expect(back.b).toEqual({ B: new Uint8Array([0, 1, 2, 255]) });
    expect(Object.keys(itemFromJson(rows[1].item_typed).ss)).toEqual(['SS']);
  });

  test('DynamoDB export files and keys configuration', () => {
    const ds = { name: 'd', kind: 'dynamoDbTable' as const, prefix: 'nights/2026-11-05/d/', objects: 0, bytes: 0 } as never;
    const e = (key: string) => ({ key: `nights/2026-11-05/d/${key}`, size: 1, sha256: 'a'.repeat(64), dataset: 'd' });
    expect(dynamoDataFiles(ds, [e('AWSDynamoDB/1/data/a.json.gz'), e('AWSDynamoDB/2/data/b.json.gz'), e('AWSDynamoDB/1/manifest-summary.json')]).map((x) => x.key)).toEqual(['nights/2026-11-05/d/AWSDynamoDB/1/data/a.json.gz']);
    expect(parseDynamoKeys('contact-records=contactId; profiles=tenant,profileId')).toEqual({ 'contact-records': ['contactId'], profiles: ['tenant', 'profileId'] });
    expect(() => parseDynamoKeys('oops')).toThrow(/CP_DYNAMODB_KEYS/);
  });
});
