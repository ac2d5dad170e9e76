/**
 * The counterparty's restorer: restores a verified night into the standby PostgreSQL.
 *
 * - each `postgres` dataset: `pg_restore --single-transaction --clean --if-exists --no-owner` of its
 *   dump into the database `CP_PG_DATABASES` names for the dataset (default: its name; created when missing);
 * - each `dynamoDbTable` dataset: the export's gzipped DynamoDB JSON lines into
 *   `counterparty.ddb_<dataset>` (key attributes as columns, the item as JSONB), in batches;
 * - every manifest entry into `counterparty.objects` (dataset, key, size, sha256, location);
 * - each `connectInstance` dataset's JSON into `counterparty.connect_config`, keyed by night and
 *   resource type (earlier nights are kept: versioned).
 *
 * Never partial-looking: `counterparty_control.restore_status` says `in_progress` from the start;
 * the `counterparty` schema is built as `counterparty_staging` and swapped in, in the same
 * transaction that sets the status to `complete`. Re-running gives the same standby.
 */
import { spawn } from 'node:child_process';
import { createWriteStream, promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { Client, type ClientConfig } from 'pg';
import { naming } from '../core';
import { RuntimeError, oneLine } from './errors';
import { logEvent, progress } from './log';
import { readManifest, type ManifestDataset, type ManifestEntry, type StoredManifest } from './manifest';
import { latestVerifiedNight, readRecord } from './records';
import type { ObjectStore } from './stores/types';
import { itemToJsonText, keyValueText, type AttributeValueJson } from './dynamodb-json';
import { HashingPassThrough, sha256Hex } from './util';

export interface PgTarget {
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly password?: string;
  /** The database that holds the `counterparty` schemas (PGDATABASE). */
  readonly database: string;
}

export interface RestoreOptions {
  readonly store: ObjectStore;
  /** @default the store */
  readonly recordsStore?: ObjectStore;
  /** `latest-verified` or a verified `YYYY-MM-DD`. @default 'latest-verified' */
  readonly night?: string;
  readonly pg: PgTarget;
  /** Key attributes per DynamoDB dataset when the export has no `table.json` (`CP_DYNAMODB_KEYS`). */
  readonly dynamoKeys?: Readonly<Record<string, readonly string[]>>;
  /**
   * The database each postgres dataset is restored into (`CP_PG_DATABASES`), so the application finds
   * its data under the name it used on the primary. @default each dataset's own name
   */
  readonly pgDatabases?: Readonly<Record<string, string>>;
  /** Rows per INSERT batch. @default 5000 */
  readonly batchSize?: number;
  /** @default os.tmpdir() */
  readonly workDir?: string;
  /** @default now */
  readonly now?: () => Date;
}

export interface RestoreResult {
  readonly night: string;
  readonly manifestSha256: string;
  readonly postgres: { readonly dataset: string; readonly database: string; readonly bytes: number; readonly seconds: number }[];
  readonly dynamodb: { readonly dataset: string; readonly table: string; readonly items: number; readonly seconds: number }[];
  readonly objects: number;
  readonly connectDocuments: number;
  readonly seconds: number;
}

export const CONTROL_SCHEMA = 'counterparty_control';
export const LIVE_SCHEMA = 'counterparty';
export const STAGING_SCHEMA = 'counterparty_staging';

export function ident(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** `contact-records` → `ddb_contact_records`. */
export function dynamoTableName(dataset: string): string {
  return `ddb_${dataset.toLowerCase().replace(/[^a-z0-9_]/g, '_')}`;
}

/** Parses `CP_PG_DATABASES` = `dataset=database[;dataset2=database2]` (the infrastructure sets it from the plan). */
export function parsePgDatabases(text: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of (text ?? '').split(';').map((s) => s.trim()).filter(Boolean)) {
    const [ds, db, extra] = part.split('=').map((x) => x?.trim());
    if (!ds || !db || extra !== undefined || !/^[A-Za-z_][\w$-]{0,62}$/.test(db)) throw new RuntimeError(`CP_PG_DATABASES: ${JSON.stringify(part)} is not dataset=database`);
    out[ds] = db;
  }
  return out;
}

/** Parses `CP_DYNAMODB_KEYS` = `dataset=hash[,range];dataset2=hash`. */
export function parseDynamoKeys(text: string | undefined): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const part of (text ?? '').split(';').map((s) => s.trim()).filter(Boolean)) {
    const [ds, keys] = part.split('=');
    if (!ds || !keys) throw new RuntimeError(`CP_DYNAMODB_KEYS: ${JSON.stringify(part)} is not dataset=hashKey[,rangeKey]`);
    out[ds.trim()] = keys.split(',').map((k) => k.trim()).filter(Boolean);
  }
  return out;
}

function pgEnv(pg: PgTarget): NodeJS.ProcessEnv {
  return { ...process.env, PGHOST: pg.host, PGPORT: String(pg.port), PGUSER: pg.user, ...(pg.password ? { PGPASSWORD: pg.password } : {}) };
}

function clientConfig(pg: PgTarget, database = pg.database): ClientConfig {
  return { host: pg.host, port: pg.port, user: pg.user, password: pg.password, database };
}

async function withClient<T>(cfg: ClientConfig, fn: (c: Client) => Promise<T>): Promise<T> {
  const c = new Client(cfg);
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end().catch(() => undefined);
  }
}

/** Downloads an object to a file, checking size and SHA-256 against the manifest entry. */
export async function downloadVerified(store: ObjectStore, entry: ManifestEntry, path: string): Promise<void> {
  const hashing = new HashingPassThrough();
  await pipeline(await store.get(entry.key), hashing, createWriteStream(path));
  if (hashing.size !== entry.size || hashing.sha256 !== entry.sha256) {
    throw new RuntimeError(`${store.url}/${entry.key}: does not match the manifest (size ${hashing.size} vs ${entry.size}, sha256 ${hashing.sha256} vs ${entry.sha256}); not restoring it`);
  }
}

export function runPgRestore(args: string[], env: NodeJS.ProcessEnv): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('pg_restore', args, { env, stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d: Buffer) => { err = (err + d.toString()).slice(-4000); });
    child.on('error', (e) => reject(new RuntimeError(`pg_restore could not start: ${oneLine(e)}`)));
    child.on('close', (code) => (code === 0 ? resolve() : reject(new RuntimeError(`pg_restore exited ${code}: ${err.trim().split('\n').slice(-2).join(' | ')}`))));
  });
}

/** Restores one dump into database `database` (created when missing), atomically (`--single-transaction`). */
export async function restorePostgresDump(pg: PgTarget, database: string, dumpPath: string): Promise<void> {
  await withClient(clientConfig(pg), async (c) => {
    const exists = await c.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
    if (!exists.rowCount) await c.query(`CREATE DATABASE ${ident(database)}`);
  });
  await runPgRestore(['--single-transaction', '--clean', '--if-exists', '--no-owner', '--no-acl', '--exit-on-error', '-d', database, dumpPath], pgEnv(pg));
}

interface DynamoKeySpec { readonly name: string; readonly type: 'S' | 'N' | 'B' }

function columnType(t: DynamoKeySpec['type']): string {
  return t === 'N' ? 'numeric' : t === 'B' ? 'bytea' : 'text';
}

async function dynamoKeySpec(store: ObjectStore, ds: ManifestDataset, entries: ManifestEntry[], configured?: readonly string[]): Promise<DynamoKeySpec[]> {
  const tableJson = entries.find((e) => e.key === `${ds.prefix}table.json`);
  if (tableJson) {
    const bytes = await store.getBytes(tableJson.key);
    if (sha256Hex(bytes) !== tableJson.sha256) throw new RuntimeError(`${store.url}/${tableJson.key}: does not match the manifest`);
    const t = JSON.parse(bytes.toString('utf8')) as { KeySchema?: { AttributeName: string; KeyType: string }[]; AttributeDefinitions?: { AttributeName: string; AttributeType: string }[] };
    const defs = new Map((t.AttributeDefinitions ?? []).map((d) => [d.AttributeName, d.AttributeType]));
    const schema = [...(t.KeySchema ?? [])].sort((a, b) => (a.KeyType === 'HASH' ? -1 : b.KeyType === 'HASH' ? 1 : 0));
    if (schema.length) return schema.map((k) => ({ name: k.AttributeName, type: (defs.get(k.AttributeName) ?? 'S') as DynamoKeySpec['type'] }));
  }
  if (configured?.length) return configured.map((name) => ({ name, type: 'S' as const }));
  throw new RuntimeError(`dataset ${ds.name}: no ${ds.prefix}table.json in the night and no CP_DYNAMODB_KEYS entry for it; set CP_DYNAMODB_KEYS="${ds.name}=<hashKey>[,<rangeKey>]"`);
}

/** `AWSDynamoDB/<id>/data/<file>.json.gz` (AWS) or `.gz` (moto). */
const DATA_FILE_RE = /AWSDynamoDB\/([^/]+)\/data\/[^/]+\.gz$/;

/** The data files of the (single, completed) DynamoDB export under a dataset's night prefix. */
export function dynamoDataFiles(ds: ManifestDataset, entries: ManifestEntry[]): ManifestEntry[] {
  const byExport = new Map<string, ManifestEntry[]>();
  for (const e of entries) {
    const m = DATA_FILE_RE.exec(e.key);
    if (m) byExport.set(m[1], [...(byExport.get(m[1]) ?? []), e]);
  }
  if (byExport.size === 0) return [];
  const completed = [...byExport.keys()].filter((id) => entries.some((e) => e.key.endsWith(`AWSDynamoDB/${id}/manifest-summary.json`)));
  const id = (completed.length ? completed : [...byExport.keys()]).sort().pop()!;
  void ds;
  return byExport.get(id)!;
}

async function loadDynamoDataset(c: Client, store: ObjectStore, ds: ManifestDataset, entries: ManifestEntry[], keys: DynamoKeySpec[], batchSize: number): Promise<{ table: string; items: number }> {
  const table = dynamoTableName(ds.name);
  const cols = keys.map((k) => `${ident(k.name)} ${columnType(k.type)} NOT NULL`).join(', ');
  await c.query(`CREATE TABLE ${STAGING_SCHEMA}.${ident(table)} (${cols}, item jsonb NOT NULL, PRIMARY KEY (${keys.map((k) => ident(k.name)).join(', ')}))`);
  const selectCols = keys.map((k, i) => (k.type === 'N' ? `k${i}::numeric` : k.type === 'B' ? `decode(k${i}, 'base64')` : `k${i}`));
  const sql = `INSERT INTO ${STAGING_SCHEMA}.${ident(table)} (${keys.map((k) => ident(k.name)).join(', ')}, item)
    SELECT ${selectCols.join(', ')}, item::jsonb FROM unnest(${keys.map((_, i) => `$${i + 1}::text[]`).join(', ')}, $${keys.length + 1}::text[]) AS t(${keys.map((_, i) => `k${i}`).join(', ')}, item)`;
  let items = 0;
  let batch: string[][] = keys.map(() => []);
  let docs: string[] = [];
  const flush = async (): Promise<void> => {
    if (!docs.length) return;
    await c.query(sql, [...batch, docs]);
    items += docs.length;
    batch = keys.map(() => []);
    docs = [];
  };
  for (const file of dynamoDataFiles(ds, entries)) {
    const hashing = new HashingPassThrough();
    const source = await store.get(file.key);
    source.on('error', (e) => hashing.destroy(e));
    const gunzip = createGunzip();
    hashing.on('error', (e) => gunzip.destroy(e));
    const lines = createInterface({ input: source.pipe(hashing).pipe(gunzip), crlfDelay: Infinity });
    for await (const line of lines) {
      if (!line.trim()) continue;
      const item = (JSON.parse(line) as { Item: Record<string, AttributeValueJson> }).Item;
      keys.forEach((k, i) => batch[i].push(keyValueText(item[k.name], k.name)));
      docs.push(itemToJsonText(item));
      if (docs.length >= batchSize) await flush();
    }
    if (hashing.size !== file.size || hashing.sha256 !== file.sha256) {
      throw new RuntimeError(`${store.url}/${file.key}: does not match the manifest (sha256 ${hashing.sha256} vs ${file.sha256}); not restoring it`);
    }
  }
  await flush();
  return { table, items };
}

async function ensureControl(c: Client): Promise<void> {
  await c.query(`CREATE SCHEMA IF NOT EXISTS ${CONTROL_SCHEMA}`);
  await c.query(`CREATE TABLE IF NOT EXISTS ${CONTROL_SCHEMA}.restore_status (
    id int PRIMARY KEY DEFAULT 1 CHECK (id = 1), night text, state text NOT NULL, manifest_sha256 text,
    started_at timestamptz, completed_at timestamptz, detail jsonb)`);
  await c.query(`CREATE TABLE IF NOT EXISTS ${CONTROL_SCHEMA}.restore_history (
    night text NOT NULL, manifest_sha256 text NOT NULL, started_at timestamptz NOT NULL, completed_at timestamptz NOT NULL, detail jsonb,
    PRIMARY KEY (night, completed_at))`);
}

/** Restores a verified night into the standby. Throws RuntimeError (one line) when it can't. */
export async function restoreNight(opts: RestoreOptions): Promise<RestoreResult> {
  const t0 = Date.now();
  const now = opts.now ?? (() => new Date());
  const store = opts.store;
  const recordsStore = opts.recordsStore ?? store;
  const selector = opts.night ?? 'latest-verified';
  let stored: StoredManifest;
  let night: string;
  if (selector === 'latest-verified') {
    const found = await latestVerifiedNight(store, recordsStore);
    if (!found) throw new RuntimeError(`${recordsStore.url}: no verified night to restore (no successful verifications/<night>.json matching its manifest); run verify first`);
    ({ night } = found);
    stored = found.manifest;
  } else {
    if (!naming.isNightId(selector)) throw new RuntimeError(`not a night: ${JSON.stringify(selector)} (use YYYY-MM-DD or latest-verified)`);
    night = selector;
    const record = await readRecord(recordsStore, night);
    if (!record || record.result !== 'success') throw new RuntimeError(`night ${night} is not verified (${record ? 'its verification failed' : 'no verification record'}); run verify first`);
    stored = await readManifest(store, night);
    if (stored.sha256 !== record.manifestSha256) throw new RuntimeError(`night ${night}: the manifest changed after it was verified; not restoring it`);
  }
  const manifest = stored.manifest;
  const startedAt = now();
  const workDir = await fs.mkdtemp(join(opts.workDir ?? tmpdir(), 'cp-restore-'));
  const control = new Client(clientConfig(opts.pg));
  await control.connect();
  const result: { -readonly [K in keyof RestoreResult]: RestoreResult[K] } = { night, manifestSha256: stored.sha256, postgres: [], dynamodb: [], objects: 0, connectDocuments: 0, seconds: 0 };
  try {
    // one restore at a time into this standby
    await control.query(`SELECT pg_advisory_lock(hashtext('counterparty.restore'))`);
    await ensureControl(control);
    await control.query(`INSERT INTO ${CONTROL_SCHEMA}.restore_status (id, night, state, manifest_sha256, started_at, completed_at, detail)
      VALUES (1, $1, 'in_progress', $2, $3, NULL, NULL)
      ON CONFLICT (id) DO UPDATE SET night = EXCLUDED.night, state = 'in_progress', manifest_sha256 = EXCLUDED.manifest_sha256, started_at = EXCLUDED.started_at, completed_at = NULL, detail = NULL`,
    [night, stored.sha256, startedAt]);
    progress(`restore: night ${night} (manifest ${stored.sha256.slice(0, 12)}…) into ${opts.pg.host}:${opts.pg.port}`);

    const entriesOf = (ds: ManifestDataset): ManifestEntry[] => manifest.entries.filter((e) => e.dataset === ds.name);

    const postgresWork = async (): Promise<void> => {
      for (const ds of manifest.datasets.filter((d) => d.kind === 'postgres')) {
        const t = Date.now();
        const dumpKey = naming.postgresDumpKey(night, ds.name);
        const entry = entriesOf(ds).find((e) => e.key === dumpKey);
        if (!entry) throw new RuntimeError(`night ${night}: dataset ${ds.name} has no ${dumpKey} in the manifest`);
        const path = join(workDir, `${ds.name}.pgdump`);
        await downloadVerified(store, entry, path);
        const database = opts.pgDatabases?.[ds.name] ?? ds.name;
        await restorePostgresDump(opts.pg, database, path);
        await fs.rm(path, { force: true });
        result.postgres.push({ dataset: ds.name, database, bytes: entry.size, seconds: (Date.now() - t) / 1000 });
        progress(`restore: postgres ${ds.name} → database ${database} (${entry.size} bytes) in ${((Date.now() - t) / 1000).toFixed(1)} s`);
      }
    };

    const stagingWork = async (): Promise<void> => {
      await withClient(clientConfig(opts.pg), async (c) => {
        await c.query(`DROP SCHEMA IF EXISTS ${STAGING_SCHEMA} CASCADE`);
        await c.query(`CREATE SCHEMA ${STAGING_SCHEMA}`);
        for (const ds of manifest.datasets.filter((d) => d.kind === 'dynamoDbTable')) {
          const t = Date.now();
          const entries = entriesOf(ds);
          const keys = await dynamoKeySpec(store, ds, entries, opts.dynamoKeys?.[ds.name]);
          const loaded = await loadDynamoDataset(c, store, ds, entries, keys, opts.batchSize ?? 5000);
          result.dynamodb.push({ dataset: ds.name, table: `${LIVE_SCHEMA}.${loaded.table}`, items: loaded.items, seconds: (Date.now() - t) / 1000 });
          progress(`restore: dynamodb ${ds.name} → ${LIVE_SCHEMA}.${loaded.table} (${loaded.items} items) in ${((Date.now() - t) / 1000).toFixed(1)} s`);
        }
        await c.query(`CREATE TABLE ${STAGING_SCHEMA}.objects (dataset text NOT NULL, key text PRIMARY KEY, size bigint NOT NULL, sha256 text NOT NULL, location text NOT NULL, night text NOT NULL)`);
        const e = manifest.entries;
        for (let i = 0; i < e.length; i += 5000) {
          const part = e.slice(i, i + 5000);
          await c.query(`INSERT INTO ${STAGING_SCHEMA}.objects (dataset, key, size, sha256, location, night)
            SELECT d, k, s::bigint, h, l, $6 FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[]) AS t(d, k, s, h, l)`,
          [part.map((x) => x.dataset), part.map((x) => x.key), part.map((x) => String(x.size)), part.map((x) => x.sha256), part.map((x) => store.locationOf(x.key)), night]);
        }
        result.objects = e.length;
        await c.query(`CREATE TABLE ${STAGING_SCHEMA}.connect_config (night text NOT NULL, dataset text NOT NULL, resource_type text NOT NULL, document jsonb NOT NULL, sha256 text NOT NULL, PRIMARY KEY (night, dataset, resource_type))`);
        const live = await c.query(`SELECT 1 FROM information_schema.tables WHERE table_schema = $1 AND table_name = 'connect_config'`, [LIVE_SCHEMA]);
        if (live.rowCount) await c.query(`INSERT INTO ${STAGING_SCHEMA}.connect_config SELECT * FROM ${LIVE_SCHEMA}.connect_config WHERE night <> $1`, [night]);
        for (const ds of manifest.datasets.filter((d) => d.kind === 'connectInstance')) {
          for (const entry of entriesOf(ds).filter((x) => x.key.endsWith('.json') && !x.key.slice(ds.prefix.length).includes('/'))) {
            const bytes = await store.getBytes(entry.key);
            if (bytes.length !== entry.size || sha256Hex(bytes) !== entry.sha256) throw new RuntimeError(`${store.url}/${entry.key}: does not match the manifest; not restoring it`);
            const type = entry.key.slice(ds.prefix.length).replace(/\.json$/, '');
            await c.query(`INSERT INTO ${STAGING_SCHEMA}.connect_config VALUES ($1, $2, $3, $4::jsonb, $5)`, [night, ds.name, type, bytes.toString('utf8'), entry.sha256]);
            result.connectDocuments++;
          }
        }
      });
    };

    await Promise.all([postgresWork(), stagingWork()]);

    // the swap and the completion marker, in one transaction
    const completedAt = now();
    const detail = { postgres: result.postgres, dynamodb: result.dynamodb, objects: result.objects, connectDocuments: result.connectDocuments, store: store.url };
    await control.query('BEGIN');
    await control.query(`DROP SCHEMA IF EXISTS ${LIVE_SCHEMA} CASCADE`);
    await control.query(`ALTER SCHEMA ${STAGING_SCHEMA} RENAME TO ${LIVE_SCHEMA}`);
    await control.query(`UPDATE ${CONTROL_SCHEMA}.restore_status SET state = 'complete', completed_at = $1, detail = $2 WHERE id = 1`, [completedAt, JSON.stringify(detail)]);
    await control.query(`INSERT INTO ${CONTROL_SCHEMA}.restore_history VALUES ($1, $2, $3, $4, $5)`, [night, stored.sha256, startedAt, completedAt, JSON.stringify(detail)]);
    await control.query('COMMIT');
    const seconds = (Date.now() - t0) / 1000;
    const done = { ...result, seconds };
    logEvent('counterparty.restore', { result: 'success', night, manifestSha256: stored.sha256, store: store.url, seconds, postgres: done.postgres, dynamodb: done.dynamodb, objects: done.objects, connectDocuments: done.connectDocuments });
    return done;
  } catch (err) {
    await control.query('ROLLBACK').catch(() => undefined);
    await control.query(`UPDATE ${CONTROL_SCHEMA}.restore_status SET state = 'failed', detail = $1 WHERE id = 1`, [JSON.stringify({ error: oneLine(err) })]).catch(() => undefined);
    logEvent('counterparty.restore', { result: 'failure', night, store: store.url, error: oneLine(err) });
    throw err instanceof RuntimeError ? err : new RuntimeError(`restore of night ${night} failed: ${oneLine(err)}`);
  } finally {
    await control.end().catch(() => undefined);
    await fs.rm(workDir, { recursive: true, force: true });
  }
}

/** What the standby says about itself: the last completed restore, or the in-progress/failed one. */
export async function restoreStatus(pg: PgTarget): Promise<{ night: string | null; state: string; manifestSha256: string | null; completedAt: string | null } | undefined> {
  return withClient(clientConfig(pg), async (c) => {
    const t = await c.query(`SELECT to_regclass('${CONTROL_SCHEMA}.restore_status') AS t`);
    if (!t.rows[0].t) return undefined;
    const r = await c.query(`SELECT night, state, manifest_sha256, completed_at FROM ${CONTROL_SCHEMA}.restore_status WHERE id = 1`);
    if (!r.rowCount) return undefined;
    const row = r.rows[0];
    return { night: row.night, state: row.state, manifestSha256: row.manifest_sha256, completedAt: row.completed_at ? new Date(row.completed_at).toISOString() : null };
  });
}
