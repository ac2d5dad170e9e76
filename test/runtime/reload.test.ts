/**
 * `reload`: a night from a counterparty copy back into AWS (moto) and PostgreSQL, proven against
 * the night; refuses a non-empty target; a reload that crashes halfway completes when run again;
 * and each proof fails when the target differs from the night.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateBucketCommand, GetObjectCommand, HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { PutItemCommand } from '@aws-sdk/client-dynamodb';
import { Client } from 'pg';
import { naming } from '../../lib/core';
import { setLogSink } from '../../lib/runtime/log';
import { reload, type ReloadOptions } from '../../lib/runtime/reload';
import { connectApplier } from '../../lib/runtime/reload/connect';
import { proveDynamoTable } from '../../lib/runtime/reload/dynamodb';
import { provePostgres } from '../../lib/runtime/reload/postgres';
import { proveRecordings } from '../../lib/runtime/reload/recordings';
import { parseReloadTarget } from '../../lib/runtime/reload/target';
import { InMemoryConnectTarget } from '../../lib/runtime/exporters/connect-fixture';
import { readNight } from '../../lib/runtime/format';
import { FileStore, readAll } from '../../lib/runtime/stores';
import { startMoto, startPostgres, type MotoService, type PostgresService } from '../../scripts/services';
import { awsClients } from '../../scripts/drill/primary';
import { writeNight } from './night-fixture';

const NIGHT = '2026-11-20';
const REGION = 'eu-central-1';
const recordings = new Map<string, string>([
  ['2026/11/20/call-1.wav', 'RIFF one'],
  ['odd/trailing-slash/', 'a key ending in a slash'],
  ['odd/ünïcødé and spaces.wav', 'unicode'],
  ['odd/back\\slash..wav', 'backslash and dots'],
  ['2026/11/20/call-2.wav', 'RIFF two, longer'],
]);
/** Every DynamoDB attribute type, with a big precise number. */
const contactItems = [
  { id: { S: 'c-1' }, n: { N: '12345678901234567890.123456789' }, b: { B: Buffer.from([0, 1, 2, 255]).toString('base64') }, ok: { BOOL: true }, nil: { NULL: true },
    m: { M: { inner: { S: 'x' }, l: { L: [{ N: '1' }, { S: 'two' }] } } }, ss: { SS: ['b', 'a'] }, ns: { NS: ['3', '1.5'] }, bs: { BS: [Buffer.from('hi').toString('base64')] } },
  { id: { S: 'c-2' }, n: { N: '-0.5' } },
];
const SOURCE_INSTANCE = '9f2c1a3e-5b7d-4c1e-8a2b-0d3f4e5a6b7c';
const SOURCE_ARN = `arn:aws:connect:${'eu-central-1'}:111122223333:instance/${SOURCE_INSTANCE}`;
const connectDocs = {
  instance: [{ Id: SOURCE_INSTANCE, Arn: SOURCE_ARN, IdentityManagementType: 'CONNECT_MANAGED' }],
  'hours-of-operation': [{ Id: 'h-1', Arn: `${SOURCE_ARN}/operating-hours/h-1`, Name: 'Office', Description: 'office hours', TimeZone: 'Europe/Berlin', Config: [{ Day: 'MONDAY', StartTime: { Hours: 9, Minutes: 0 }, EndTime: { Hours: 17, Minutes: 0 } }] }],
};

let moto: MotoService;
let pg: PostgresService;
let work: string;
let source: FileStore;
let clients: ReturnType<typeof awsClients>;
const lines: string[] = [];
let seq = 0;

function pgDump(database: string): Buffer {
  const r = spawnSync('pg_dump', ['-Fc', '-h', pg.host, '-p', String(pg.port), '-U', pg.user, database]);
  if (r.status !== 0) throw new Error(`pg_dump: ${r.stderr.toString()}`);
  return r.stdout;
}

async function sql(database: string, text: string): Promise<unknown[]> {
  const c = new Client({ host: pg.host, port: pg.port, user: pg.user, database });
  await c.connect();
  try { return (await c.query(text)).rows; } finally { await c.end(); }
}

/** A fresh target (bucket, table, database and Connect instance names) for each test. */
async function freshTarget(): Promise<{ text: string; bucket: string; table: string; database: string; connect: InMemoryConnectTarget }> {
  seq++;
  const bucket = `reload-target-${seq}`;
  const staging = `reload-staging-${seq}`;
  for (const b of [bucket, staging]) await clients.s3.send(new CreateBucketCommand({ Bucket: b, CreateBucketConfiguration: { LocationConstraint: REGION } }));
  const text = JSON.stringify({
    region: REGION, stagingBucket: staging,
    datasets: {
      recordings: { bucket }, contacts: { tableName: `contacts-reloaded-${seq}` },
      crm: { host: pg.host, port: pg.port, database: `crm_reloaded_${seq}`, user: pg.user }, connect: { instanceId: `inst-${seq}` },
    },
  });
  return { text, bucket, table: `contacts-reloaded-${seq}`, database: `crm_reloaded_${seq}`, connect: new InMemoryConnectTarget(`inst-${seq}`) };
}

function options(t: Awaited<ReturnType<typeof freshTarget>>, over: Partial<ReloadOptions> = {}): ReloadOptions {
  return {
    source, night: NIGHT, target: parseReloadTarget(t.text), targetText: t.text, s3: clients.s3, dynamo: clients.ddb,
    applyConnect: connectApplier({ client: t.connect }), stateDir: join(work, 'state'), outDir: join(work, `out-${seq}`), ...over,
  };
}

beforeAll(async () => {
  setLogSink({ line: (l) => { lines.push(l); } });
  process.env.CP_QUIET = '1';
  [moto, pg] = await Promise.all([startMoto(), startPostgres('reload')]);
  clients = awsClients(moto.endpoint, REGION);
  work = mkdtempSync(join(tmpdir(), 'cp-reload-'));
  await sql('postgres', 'CREATE DATABASE crm_source');
  await sql('crm_source', "CREATE EXTENSION IF NOT EXISTS pgcrypto; CREATE TABLE customers (id int PRIMARY KEY, name text, secret bytea); INSERT INTO customers SELECT g, 'customer ' || g, digest(g::text, 'sha256') FROM generate_series(1, 500) g; CREATE TABLE notes (id serial PRIMARY KEY, body text); INSERT INTO notes (body) VALUES ('tab\there'), (E'new\\nline'), (NULL)");
  source = new FileStore(join(work, 'counterparty'));
  await writeNight(source, NIGHT, { recordings, crm: pgDump('crm_source'), contacts: { items: contactItems }, connect: connectDocs });
}, 120_000);

afterAll(async () => {
  delete process.env.CP_QUIET;
  await Promise.all([moto?.stop(), pg?.stop()]);
  rmSync(work, { recursive: true, force: true });
});

test('a night goes back into empty targets, every dataset proven, with a report and a fail-back RTO', async () => {
  const t = await freshTarget();
  const report = await reload(options(t));
  expect(report.result).toBe('success');
  expect(report.datasets.map((d) => [d.name, d.problems])).toEqual([['connect', []], ['contacts', []], ['crm', []], ['recordings', []]].sort() as never);
  // recordings: original keys, bytes and Content-Type
  for (const [key, body] of recordings) {
    const got = await clients.s3.send(new GetObjectCommand({ Bucket: t.bucket, Key: key }));
    expect((await readAll(got.Body as never)).toString()).toBe(body);
    expect(got.ContentType).toBe('audio/wav');
  }
  // DynamoDB: every type survives (B as bytes, sets, big numbers)
  const item = (await clients.ddb.send(new (await import('@aws-sdk/client-dynamodb')).GetItemCommand({ TableName: t.table, Key: { id: { S: 'c-1' } } }))).Item!;
  expect(item.n.N).toBe('12345678901234567890.123456789');
  expect(Buffer.from(item.b.B!)).toEqual(Buffer.from([0, 1, 2, 255]));
  expect(item.ss.SS!.sort()).toEqual(['a', 'b']);
  expect(item.bs.BS!.map((b) => Buffer.from(b).toString())).toEqual(['hi']);
  expect(item.nil.NULL).toBe(true);
  // the rebuilt table is ready for the next nightly export: PITR on
  const { DescribeContinuousBackupsCommand } = await import('@aws-sdk/client-dynamodb');
  const backups = await clients.ddb.send(new DescribeContinuousBackupsCommand({ TableName: t.table }));
  expect(backups.ContinuousBackupsDescription?.PointInTimeRecoveryDescription?.PointInTimeRecoveryStatus).toBe('ENABLED');
  // PostgreSQL: into the NEW database, not the source; the extension's data came along
  expect(await sql(t.database, 'SELECT count(*)::int AS n FROM customers')).toEqual([{ n: 500 }]);
  expect(await sql(t.database, 'SELECT body FROM notes ORDER BY id')).toEqual([{ body: 'tab\there' }, { body: 'new\nline' }, { body: null }]);
  // Connect: the hours were created on the target instance
  expect(t.connect.list('hours').map((h) => h.Name)).toContain('Office');
  const json = JSON.parse(readFileSync(join(work, `out-${seq}`, 'reload-report.json'), 'utf8'));
  expect(json.rtoSeconds).toBeGreaterThan(0);
  expect(readFileSync(join(work, `out-${seq}`, 'reload-report.md'), 'utf8')).toMatch(/Fail-back RTO \(measured\)/);
  expect(lines.some((l) => l.includes('"event":"counterparty.reload"') && l.includes('"result":"success"'))).toBe(true);
}, 120_000);

test('a non-empty target is refused without --force, and nothing is loaded', async () => {
  const t = await freshTarget();
  await clients.s3.send(new PutObjectCommand({ Bucket: t.bucket, Key: 'someone-elses.wav', Body: 'keep me' }));
  await expect(reload(options(t))).rejects.toThrow(/target is not empty \(recordings: s3:\/\/reload-target-\d+\/ holds objects\).*--force/);
  await expect(clients.s3.send(new HeadObjectCommand({ Bucket: t.bucket, Key: '2026/11/20/call-1.wav' }))).rejects.toMatchObject({ name: 'NotFound' });
  expect(await sql('postgres', `SELECT datname FROM pg_database WHERE datname = '${t.database}'`)).toEqual([]);
  // --force loads beside the existing object (logged) and never deletes it; the proof then names it.
  await expect(reload(options(t, { force: true }))).rejects.toThrow(/someone-elses\.wav: in the target but not in the night/);
  const kept = await clients.s3.send(new GetObjectCommand({ Bucket: t.bucket, Key: 'someone-elses.wav' }));
  expect((await readAll(kept.Body as never)).toString()).toBe('keep me');
}, 120_000);

test('a reload killed halfway completes when run again, without duplicates', async () => {
  const t = await freshTarget();
  let placed = 0;
  const crash = (): void => { if (++placed === 2) throw new Error('simulated crash after 2 recordings'); };
  await expect(reload(options(t, { afterObject: crash, concurrency: 1 }))).rejects.toThrow(/simulated crash/);
  const again = await reload(options(t, { concurrency: 1 }));
  expect(again.result).toBe('success');
  // datasets the first run finished and proved are not loaded again (the journal says so); the crashed one continues
  const crm = again.datasets.find((d) => d.name === 'crm')!;
  expect(crm.loaded).toEqual({ earlierRun: true });
  const rec = again.datasets.find((d) => d.name === 'recordings')!;
  expect(rec.loaded).toMatchObject({ objects: recordings.size, skipped: 2, uploaded: recordings.size - 2 });
  expect(rec.problems).toEqual([]);
}, 120_000);

describe('the proofs fail when the target differs from the night', () => {
  let t: Awaited<ReturnType<typeof freshTarget>>;
  beforeAll(async () => {
    t = await freshTarget();
    await reload(options(t));
  }, 120_000);

  test('a recording rewritten in the target', async () => {
    const reader = await readNight(source, NIGHT);
    expect((await proveRecordings(clients.s3, t.bucket, '', reader.entries('recordings'))).problems).toEqual([]);
    await clients.s3.send(new PutObjectCommand({ Bucket: t.bucket, Key: '2026/11/20/call-1.wav', Body: 'RIFF 0ne', ChecksumAlgorithm: 'SHA256' }));
    const { problems } = await proveRecordings(clients.s3, t.bucket, '', reader.entries('recordings'));
    expect(problems).toEqual([expect.stringMatching(/^2026\/11\/20\/call-1\.wav: sha256 /)]);
  });

  test('a DynamoDB item changed in the target (same count)', async () => {
    const reader = await readNight(source, NIGHT);
    const objects = reader.manifest.entries.filter((e) => e.dataset === 'contacts');
    expect((await proveDynamoTable(source, objects, clients.ddb, t.table)).problems).toEqual([]);
    await clients.ddb.send(new PutItemCommand({ TableName: t.table, Item: { id: { S: 'c-2' }, n: { N: '-0.25' } } }));
    expect((await proveDynamoTable(source, objects, clients.ddb, t.table)).problems).toEqual([expect.stringMatching(/same count, different items/)]);
  });

  test('a night whose DynamoDB export files are not where an export puts them is never proven (0 = 0 is not a match)', async () => {
    const reader = await readNight(source, NIGHT);
    const objects = reader.manifest.entries.filter((e) => e.dataset === 'contacts' && !e.key.includes('/data/'));
    expect((await proveDynamoTable(source, objects, clients.ddb, t.table)).problems).toEqual([expect.stringMatching(/lists no DynamoDB export data file/)]);
  });

  test('a PostgreSQL row changed in the target (same count)', async () => {
    const dump = join(work, 'crm.pgdump');
    require('node:fs').writeFileSync(dump, await source.getBytes(naming.postgresDumpKey(NIGHT, 'crm')));
    const target = { kind: 'postgres' as const, host: pg.host, port: pg.port, database: t.database, user: pg.user, jobs: 1 };
    expect((await provePostgres(target, dump)).problems).toEqual([]);
    await sql(t.database, "UPDATE customers SET name = 'someone else' WHERE id = 7");
    expect((await provePostgres(target, dump)).problems).toEqual([expect.stringMatching(/^public\.customers .*rows differ/)]);
  });
});

test('a night whose dump does not match its manifest is refused before anything is loaded, naming the object', async () => {
  const tampered = new FileStore(join(work, 'tampered'));
  await writeNight(tampered, NIGHT, { crm: pgDump('crm_source') });
  require('node:fs').appendFileSync(join(tampered.root, naming.postgresDumpKey(NIGHT, 'crm')), 'x');
  const t = await freshTarget();
  const text = JSON.stringify({ region: REGION, datasets: { crm: { host: pg.host, port: pg.port, database: t.database, user: pg.user } } });
  await expect(reload({ ...options(t), source: tampered, target: parseReloadTarget(text), targetText: text }))
    .rejects.toThrow(new RegExp(`night ${NIGHT} .* is not sound.*${naming.postgresDumpKey(NIGHT, 'crm').replace(/\./g, '\\.')}`));
  expect(await sql('postgres', `SELECT datname FROM pg_database WHERE datname = '${t.database}'`)).toEqual([]);
});

test('target file errors name the field, the value and the fix', () => {
  expect(() => parseReloadTarget('{"region":"eu-central-1","datasets":{"contacts":{"tableName":"t"}}}')).toThrow(/stagingBucket = undefined: is required when a DynamoDB table is reloaded.*Fix: /);
  expect(() => parseReloadTarget('{"region":"eu-central-1","datasets":{"crm":{"host":"h","database":"d","user":"u","passwordEnv":"NOPE_NOT_SET"}}}', {})).toThrow(/datasets\.crm\.passwordEnv = "NOPE_NOT_SET": names an environment variable that is not set\. Fix: export NOPE_NOT_SET=/);
});
