/**
 * The synthetic contact centre the drill protects: call recordings (S3), contact records
 * (DynamoDB, PITR on), a CRM database (PostgreSQL) and a Connect configuration fixture.
 * Sizes come from {@link SeedSize}; the default is the size.
 */
import { createHash, randomBytes } from 'node:crypto';
import { DeleteObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { BatchWriteItemCommand, CreateTableCommand, UpdateContinuousBackupsCommand, type DynamoDBClient, type WriteRequest, type AttributeValue } from '@aws-sdk/client-dynamodb';
import { Client } from 'pg';
import { mapLimit } from '../../lib/runtime/util';

export interface SeedSize {
  readonly recordings: number;
  readonly recordingBytes: number;
  readonly contactRecords: number;
  /** CRM customers; cases, notes and accounts scale from it (total rows ≈ 2.3 × customers + accounts). */
  readonly crmCustomers: number;
}

export const FULL_SIZE: SeedSize = { recordings: 2000, recordingBytes: 200 * 1024 * 1024, contactRecords: 50_000, crmCustomers: 40_000 };
export const QUICK_SIZE: SeedSize = { recordings: 200, recordingBytes: 20 * 1024 * 1024, contactRecords: 5_000, crmCustomers: 4_000 };

/** A deterministic PRNG (mulberry32) so runs are comparable. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Mixed sizes (a few long calls, many short ones) summing to about `total`. */
export function recordingSizes(n: number, total: number, rand = prng(7)): number[] {
  const raw = Array.from({ length: n }, () => Math.exp(rand() * 3)); // 1 .. e^3, skewed
  const sum = raw.reduce((a, b) => a + b, 0);
  return raw.map((r) => Math.max(1024, Math.round((r / sum) * total)));
}

export interface SeededRecording { readonly key: string; readonly size: number; readonly sha256: string }

export async function putRecording(s3: S3Client, bucket: string, key: string, size: number): Promise<SeededRecording> {
  const body = randomBytes(size);
  await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ContentType: 'audio/wav' }));
  return { key, size, sha256: createHash('sha256').update(body).digest('hex') };
}

export function recordingKey(i: number): string {
  const day = String(1 + (i % 28)).padStart(2, '0');
  return `connect/acme/CallRecordings/2026/10/${day}/contact-${String(i).padStart(6, '0')}.wav`;
}

export async function seedRecordings(s3: S3Client, bucket: string, size: SeedSize): Promise<Map<string, SeededRecording>> {
  const sizes = recordingSizes(size.recordings, size.recordingBytes);
  const out = await mapLimit(sizes, 16, (bytes, i) => putRecording(s3, bucket, recordingKey(i), bytes));
  return new Map(out.map((r) => [r.key, r]));
}

const CHANNELS = ['VOICE', 'CHAT', 'TASK'];
const QUEUES = ['Sales', 'Support', 'Billing'];

export function contactItem(i: number, version = 1): Record<string, AttributeValue> {
  const r = prng(i * 31 + version);
  return {
    contactId: { S: `c-${String(i).padStart(7, '0')}` },
    initiatedAt: { S: new Date(Date.UTC(2026, 9, 1) + i * 60_000).toISOString() },
    channel: { S: CHANNELS[i % 3] },
    queue: { S: QUEUES[Math.floor(r() * 3)] },
    agentId: { S: `agent${1 + Math.floor(r() * 40)}` },
    durationSeconds: { N: String(Math.floor(r() * 1800)) },
    sentiment: { N: (r() * 2 - 1).toFixed(3) },
    version: { N: String(version) },
    recorded: { BOOL: i % 3 === 0 },
    tags: { SS: ['nps', `wave-${i % 5}`] },
    attributes: { M: { customerId: { S: `cust-${i % 40000}` }, language: { S: i % 7 ? 'de' : 'en' } } },
  };
}

export async function createContactTable(ddb: DynamoDBClient, table: string): Promise<void> {
  await ddb.send(new CreateTableCommand({
    TableName: table,
    KeySchema: [{ AttributeName: 'contactId', KeyType: 'HASH' }],
    AttributeDefinitions: [{ AttributeName: 'contactId', AttributeType: 'S' }],
    BillingMode: 'PAY_PER_REQUEST',
  }));
  await ddb.send(new UpdateContinuousBackupsCommand({ TableName: table, PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true } }));
}

export async function writeItems(ddb: DynamoDBClient, table: string, items: Record<string, AttributeValue>[]): Promise<void> {
  const batches: WriteRequest[][] = [];
  for (let i = 0; i < items.length; i += 25) batches.push(items.slice(i, i + 25).map((Item) => ({ PutRequest: { Item } })));
  await mapLimit(batches, 8, async (b) => {
    let pending: WriteRequest[] | undefined = b;
    for (let attempt = 0; pending?.length && attempt < 10; attempt++) {
      const r: { UnprocessedItems?: Record<string, WriteRequest[]> } = await ddb.send(new BatchWriteItemCommand({ RequestItems: { [table]: pending } }));
      pending = r.UnprocessedItems?.[table];
    }
    if (pending?.length) throw new Error(`BatchWriteItem left ${pending.length} items unprocessed`);
  });
}

export async function seedContactRecords(ddb: DynamoDBClient, table: string, size: SeedSize): Promise<void> {
  await createContactTable(ddb, table);
  await writeItems(ddb, table, Array.from({ length: size.contactRecords }, (_, i) => contactItem(i)));
}

/**
 * The CRM: accounts → customers → cases → case_notes, with foreign keys. Returns the row counts.
 * It uses the pgcrypto extension (the reference plan lists it): each account's API token defaults to
 * `gen_random_bytes`, and `customers.email_sha256` is a stored generated column computed by `digest`,
 * so a standby without the extension can't restore the customers at all.
 */
export async function seedCrm(pg: { host: string; port: number; user: string }, database: string, size: SeedSize): Promise<Record<string, number>> {
  const admin = new Client({ ...pg, database: 'postgres' });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${database}`);
  await admin.end();
  const c = new Client({ ...pg, database });
  await c.connect();
  const n = size.crmCustomers;
  try {
    await c.query(`
      CREATE EXTENSION IF NOT EXISTS pgcrypto;
      CREATE TABLE accounts (id int PRIMARY KEY, name text NOT NULL, tier text NOT NULL, created_at timestamptz NOT NULL,
        api_token text NOT NULL DEFAULT encode(gen_random_bytes(16), 'hex'));
      CREATE TABLE customers (id int PRIMARY KEY, account_id int NOT NULL REFERENCES accounts(id), full_name text NOT NULL, email text NOT NULL,
        phone text, language text NOT NULL, consent boolean NOT NULL, updated_at timestamptz NOT NULL,
        email_sha256 bytea GENERATED ALWAYS AS (digest(email, 'sha256')) STORED);
      CREATE TABLE cases (id bigint PRIMARY KEY, customer_id int NOT NULL REFERENCES customers(id), contact_id text, status text NOT NULL,
        priority int NOT NULL, subject text NOT NULL, opened_at timestamptz NOT NULL, amount numeric(12,2));
      CREATE TABLE case_notes (id bigint PRIMARY KEY, case_id bigint NOT NULL REFERENCES cases(id), author text NOT NULL, body text NOT NULL, created_at timestamptz NOT NULL);
      CREATE INDEX ON customers (account_id); CREATE INDEX ON cases (customer_id); CREATE INDEX ON case_notes (case_id);
      INSERT INTO accounts (id, name, tier, created_at) SELECT g, 'Account ' || g, (ARRAY['gold','silver','bronze'])[1 + g % 3], timestamptz '2020-01-01' + g * interval '1 hour' FROM generate_series(1, ${Math.max(10, Math.floor(n / 8))}) g;
      INSERT INTO customers (id, account_id, full_name, email, phone, language, consent, updated_at) SELECT g, 1 + g % ${Math.max(10, Math.floor(n / 8))}, 'Customer ' || g, 'customer' || g || '@example.com', '+49' || (30000000 + g),
        (ARRAY['de','en','fr'])[1 + g % 3], g % 4 <> 0, timestamptz '2025-01-01' + g * interval '1 minute' FROM generate_series(1, ${n}) g;
      INSERT INTO cases SELECT g, 1 + g % ${n}, 'c-' || lpad((g % 50000)::text, 7, '0'), (ARRAY['open','pending','closed'])[1 + g % 3], 1 + g % 4,
        'Case about order ' || (g * 7919 % 100000), timestamptz '2026-01-01' + g * interval '3 minutes', round((g % 100000) / 7.0, 2) FROM generate_series(1, ${Math.floor(n * 1.25)}) g;
      INSERT INTO case_notes SELECT g, 1 + g % ${Math.floor(n * 1.25)}, 'agent' || (1 + g % 40), repeat('Note text ' || g || '. ', 1 + g % 5), timestamptz '2026-01-01' + g * interval '90 seconds' FROM generate_series(1, ${n}) g;
      ANALYZE;`);
    const counts: Record<string, number> = {};
    for (const t of ['accounts', 'customers', 'cases', 'case_notes']) counts[t] = Number((await c.query(`SELECT count(*) AS n FROM ${t}`)).rows[0].n);
    return counts;
  } finally {
    await c.end();
  }
}

/** Night-2 change of about 1 % of the CRM rows (updates plus a few inserts). Returns rows touched. */
export async function changeCrm(pg: { host: string; port: number; user: string }, database: string, fraction: number): Promise<number> {
  const c = new Client({ ...pg, database });
  await c.connect();
  try {
    const every = Math.max(1, Math.round(1 / fraction));
    const a = await c.query(`UPDATE customers SET email = 'changed' || id || '@example.com', updated_at = now() WHERE id % ${every} = 0`);
    const b = await c.query(`UPDATE cases SET status = 'closed', amount = amount + 1 WHERE id % ${every} = 1`);
    const maxNote = Number((await c.query('SELECT max(id) AS m FROM case_notes')).rows[0].m);
    const d = await c.query(`INSERT INTO case_notes SELECT ${maxNote} + g, 1 + g, 'agent7', 'Follow-up note ' || g, now() FROM generate_series(1, ${Math.max(1, Math.floor(maxNote * fraction))}) g`);
    return (a.rowCount ?? 0) + (b.rowCount ?? 0) + (d.rowCount ?? 0);
  } finally {
    await c.end();
  }
}

/** Deletes a recording on the primary (the drill's night-2 erasure). */
export async function deleteRecording(s3: S3Client, bucket: string, key: string): Promise<void> {
  await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
}
