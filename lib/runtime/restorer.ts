/**
 * The counterparty's restorer: restores a verified night into the standby PostgreSQL, atomically.
 *
 * - each `postgres` dataset: its dump's table of contents (`pg_restore -l`) is read, its extensions
 *   are created one by one (a server that refuses one fails with the extension's name, not halfway
 *   through the dump), and the rest is restored into a FRESH database; every TABLE of the TOC must
 *   exist afterwards;
 * - each `dynamoDbTable` dataset: the export's gzipped DynamoDB JSON lines into
 *   `counterparty_staging.ddb_<dataset>` (key attributes as columns, the item as plain JSONB in `item`
 *   and losslessly, with its DynamoDB types, in `item_typed`); the item count must equal the export's;
 * - every manifest entry into `counterparty.objects` (its count per dataset must equal the manifest's);
 * - each `connectInstance` dataset's JSON into `counterparty.connect_config` (versioned by night);
 *   the documents must match its index.
 *
 * Only when EVERY dataset succeeded does one transaction switch the standby: the fresh databases are
 * renamed to the names the application uses, the staging schema replaces `counterparty`, and
 * `restore_status` says `complete`. On any failure the siblings are cancelled (AbortController;
 * pg_restore children are killed), the fresh databases and the staging schema are dropped, and the
 * standby keeps the night it had. A night older than the last restored one is refused unless forced.
 */
import { spawn } from 'node:child_process';
import { createHash, createHmac, pbkdf2Sync, randomBytes } from 'node:crypto';
import { createWriteStream, promises as fs } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { Client, type ClientConfig } from 'pg';
import { naming } from '../core';
import { RuntimeError, oneLine } from './errors';
import { JobFailure, failureFields, logEvent, progress, type Reason } from './log';
import { readManifestV2 as readManifest, readNight, type IndexEntry, type ManifestDataset, type ManifestEntry, type StoredManifest } from './format';
import { latestRestoration, latestVerifiedNight, putRecord, readRecord, restorationKey, verifiedManifest, type RestorationRecord } from './records';
import { freshnessFields, readFreshness, type FreshnessConfig } from './status';
import type { ObjectStore } from './stores/types';
import { itemToJsonText, keyValueText, type AttributeValueJson } from './dynamodb-json';
import { HashingPassThrough, sha256Hex } from './util';
import { dynamoExportFiles, type PlannedDataset } from './verifier';

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
  /** The plan's datasets (`CP_DATASETS`): each must be in the night. @default the night's own datasets */
  readonly datasets?: readonly PlannedDataset[];
  /** Restore a night older than the last restored one (`--force` / `CP_FORCE=1`). @default false */
  readonly force?: boolean;
  /** @default { rpoHours: 24, alarmGraceHours: 6 } */
  readonly freshness?: FreshnessConfig;
  /** Cancels the restore (everything started is stopped and dropped). */
  readonly signal?: AbortSignal;
  /** Write the restoration record. @default true */
  readonly writeRecord?: boolean;
  /** Rows per INSERT batch. @default 5000 */
  readonly batchSize?: number;
  /** @default os.tmpdir() */
  readonly workDir?: string;
  /** @default now */
  readonly now?: () => Date;
  /**
   * The standby application's own database role, granted DML (never DDL, never ownership) on what
   * the restore creates (`CP_PG_APP_ROLE`, or `CP_APP_DB_USER` + `CP_APP_DB_PASSWORD`).
   * @default no grants
   */
  readonly appRole?: AppRole;
}

/** The application's database role on the standby. */
export interface AppRole {
  readonly name: string;
  /**
   * Set: the restore creates the role as a login (`LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE`) when it
   * is missing and sets this password on every restore (Azure). Unset: the role must exist (GCP: the
   * Cloud SQL IAM user Terraform creates). @default unset
   */
  readonly password?: string;
}

export interface RestoreResult {
  readonly night: string;
  readonly manifestSha256: string;
  readonly postgres: { readonly dataset: string; readonly database: string; readonly bytes: number; readonly tables: number; readonly seconds: number }[];
  readonly dynamodb: { readonly dataset: string; readonly table: string; readonly items: number; readonly seconds: number }[];
  readonly objects: number;
  readonly connectDocuments: number;
  readonly seconds: number;
  readonly logLine: string;
  /** The application role granted DML on what was restored (unset: none configured). */
  readonly appRole?: string;
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

/**
 * The application role from the environment: `CP_PG_APP_ROLE` (GCP: an existing Cloud SQL IAM user) or
 * `CP_APP_DB_USER` with `CP_APP_DB_PASSWORD` (Azure: a login the restore creates). Neither: undefined.
 */
export function appRoleFromEnv(env: Readonly<Record<string, string | undefined>>): AppRole | undefined {
  const { CP_PG_APP_ROLE: iamRole, CP_APP_DB_USER: user, CP_APP_DB_PASSWORD: password } = env;
  if (iamRole && user) throw new RuntimeError(`CP_PG_APP_ROLE (${JSON.stringify(iamRole)}) and CP_APP_DB_USER (${JSON.stringify(user)}) are both set; set one (GCP sets CP_PG_APP_ROLE, Azure CP_APP_DB_USER)`);
  if (iamRole) return { name: iamRole };
  if (!user) {
    if (password) throw new RuntimeError('CP_APP_DB_PASSWORD is set without CP_APP_DB_USER; set the login name too');
    return undefined;
  }
  if (!password) throw new RuntimeError(`CP_APP_DB_USER=${JSON.stringify(user)} needs CP_APP_DB_PASSWORD (the restore creates that login and keeps its password in sync)`);
  return { name: user, password };
}

/**
 * A SCRAM-SHA-256 verifier (RFC 5802/7677, PostgreSQL's `SCRAM-SHA-256$<iter>:<salt>$<StoredKey>:<ServerKey>`),
 * computed here as libpq's PQencryptPasswordConn does, so the password itself never reaches the server
 * (nor its statement log). Printable ASCII only: other passwords would need SASLprep first.
 */
export function scramSha256Verifier(password: string, salt = randomBytes(16), iterations = 4096): string {
  if (!/^[\x20-\x7e]+$/.test(password)) throw new RuntimeError('the application login\'s password (CP_APP_DB_PASSWORD) must be non-empty printable ASCII');
  const salted = pbkdf2Sync(password, salt, iterations, 32, 'sha256');
  const clientKey = createHmac('sha256', salted).update('Client Key').digest();
  const storedKey = createHash('sha256').update(clientKey).digest();
  const serverKey = createHmac('sha256', salted).update('Server Key').digest();
  return `SCRAM-SHA-256$${iterations}:${salt.toString('base64')}$${storedKey.toString('base64')}:${serverKey.toString('base64')}`;
}

/**
 * Makes sure the application role can take its grants: creates the login (Azure) or finds the role
 * (GCP), sets the password, and refuses a role that could run DDL or act as the restore role.
 */
async function prepareAppRole(c: Client, role: AppRole, restoreUser: string): Promise<void> {
  const own = await c.query('SELECT $1 = current_user AS same, (SELECT pg_has_role($1, current_user, \'USAGE\') FROM pg_roles WHERE rolname = $1) AS inherits', [role.name]);
  if (own.rows[0].same || own.rows[0].inherits) throw new RuntimeError(`the application role ${role.name} is (or inherits) the restore role ${restoreUser}; give the application its own role`);
  const found = await c.query('SELECT rolsuper, rolcreatedb, rolcreaterole, rolbypassrls FROM pg_roles WHERE rolname = $1', [role.name]);
  const attrs = found.rows[0] as Record<string, boolean> | undefined;
  const powers = attrs ? ['rolsuper', 'rolcreatedb', 'rolcreaterole', 'rolbypassrls'].filter((a) => attrs[a]).map((a) => a.slice(3).toUpperCase()) : [];
  if (powers.length) throw new RuntimeError(`the application role ${role.name} has ${powers.join(', ')}; the standby application must run without DDL or admin rights: ALTER ROLE ${ident(role.name)} ${powers.map((p) => `NO${p}`).join(' ')}`);
  if (role.password !== undefined) {
    const verifier = c.escapeLiteral(scramSha256Verifier(role.password));
    if (!attrs) await c.query(`CREATE ROLE ${ident(role.name)} WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS PASSWORD ${verifier}`);
    else await c.query(`ALTER ROLE ${ident(role.name)} WITH LOGIN PASSWORD ${verifier}`);
  } else if (!attrs) {
    throw new RuntimeError(`the application role ${role.name} (CP_PG_APP_ROLE) does not exist on the standby; it is created with the standby (GCP: the Cloud SQL IAM user of the app's service account): deploy the counterparty stack`);
  }
}

/** Schemas of a restored database the application uses (everything but the system's). */
const USER_SCHEMAS = `SELECT nspname FROM pg_namespace WHERE nspname !~ '^pg_' AND nspname <> 'information_schema' ORDER BY nspname`;

/**
 * Grants the application DML on a freshly restored database, before it is switched in: CONNECT, USAGE
 * on its schemas, SELECT/INSERT/UPDATE/DELETE on its tables, USAGE/SELECT on its sequences (and the
 * same by default for what the restore role creates there later). Never ownership, never CREATE:
 * CREATE on the schemas is revoked from PUBLIC (PostgreSQL ≤ 14 servers grant it on `public`).
 */
export async function grantAppAccess(pg: PgTarget, database: string, role: string): Promise<void> {
  await withClient(clientConfig(pg, database), async (c) => {
    const r = ident(role);
    await c.query('BEGIN');
    await c.query(`GRANT CONNECT ON DATABASE ${ident(database)} TO ${r}`);
    for (const { nspname } of (await c.query(USER_SCHEMAS)).rows as { nspname: string }[]) {
      const s = ident(nspname);
      await c.query(`REVOKE CREATE ON SCHEMA ${s} FROM PUBLIC`);
      await c.query(`GRANT USAGE ON SCHEMA ${s} TO ${r}`);
      await c.query(`GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA ${s} TO ${r}`);
      await c.query(`GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA ${s} TO ${r}`);
      await c.query(`ALTER DEFAULT PRIVILEGES IN SCHEMA ${s} GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO ${r}`);
      await c.query(`ALTER DEFAULT PRIVILEGES IN SCHEMA ${s} GRANT USAGE, SELECT ON SEQUENCES TO ${r}`);
    }
    await c.query('COMMIT');
  });
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
export async function downloadVerified(store: ObjectStore, entry: ManifestEntry, path: string, signal?: AbortSignal): Promise<void> {
  const hashing = new HashingPassThrough();
  await pipeline(await store.get(entry.key), hashing, createWriteStream(path), ...(signal ? [{ signal }] : []));
  if (hashing.size !== entry.size || hashing.sha256 !== entry.sha256) {
    throw new RuntimeError(`${store.url}/${entry.key}: does not match the manifest (size ${hashing.size} vs ${entry.size}, sha256 ${hashing.sha256} vs ${entry.sha256}); not restoring it`);
  }
}

/** Runs pg_restore; on abort the child is killed (SIGTERM) and the promise rejects. */
export function runPgRestore(args: string[], env: NodeJS.ProcessEnv, signal?: AbortSignal): Promise<string> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) { reject(abortError(signal)); return; }
    const child = spawn('pg_restore', args, { env, stdio: ['ignore', 'pipe', 'pipe'], ...(signal ? { signal, killSignal: 'SIGTERM' as const } : {}) });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { err = (err + d.toString()).slice(-4000); });
    child.on('error', (e) => reject((e as { name?: string }).name === 'AbortError' ? abortError(signal) : new RuntimeError(`pg_restore could not start: ${oneLine(e)}`)));
    child.on('close', (code) => {
      if (signal?.aborted) reject(abortError(signal));
      else if (code === 0) resolve(out);
      else reject(new RuntimeError(`pg_restore exited ${code}: ${err.trim().split('\n').slice(-2).join(' | ')}`));
    });
  });
}

function abortError(signal?: AbortSignal): Error {
  const e = new Error(`cancelled${signal?.reason ? `: ${oneLine(signal.reason)}` : ''}`);
  e.name = 'AbortError';
  return e;
}

/** A dump's table of contents (`pg_restore -l`), split into what the restorer treats specially. */
export interface DumpToc {
  readonly lines: readonly string[];
  readonly extensions: readonly string[];
  readonly tables: readonly { readonly schema: string; readonly name: string }[];
  readonly tableData: number;
}

/** Parses `pg_restore -l` output: `<id>; <oid> <oid> <DESC> <schema> <name> <owner>`. */
export function parseToc(text: string): DumpToc {
  const lines = text.split('\n');
  const extensions: string[] = [];
  const tables: { schema: string; name: string }[] = [];
  let tableData = 0;
  for (const line of lines) {
    const m = /^\d+; \d+ \d+ (.*)$/.exec(line);
    if (!m) continue;
    const rest = m[1];
    if (rest.startsWith('TABLE DATA ')) tableData++;
    else if (rest.startsWith('TABLE ')) {
      const [schema, name] = rest.slice('TABLE '.length).split(' ');
      tables.push({ schema, name });
    } else if (rest.startsWith('EXTENSION ')) extensions.push(rest.split(' ')[2]);
  }
  return { lines, extensions, tables, tableData };
}

/** The TOC without extension entries (created separately) and their comments (need ownership). */
function tocWithoutExtensions(toc: DumpToc): string {
  return `${toc.lines.filter((l) => !/^\d+; \d+ \d+ (EXTENSION|COMMENT - EXTENSION) /.test(l)).join('\n')}\n`;
}

/**
 * Restores one dump into `database`, which must be new and empty: reads the TOC, creates each
 * extension (`CREATE EXTENSION IF NOT EXISTS`, one by one), restores the rest (`--exit-on-error`),
 * then checks that every TABLE of the TOC exists. Returns the TOC.
 */
export async function restorePostgresDump(pg: PgTarget, database: string, dumpPath: string, signal?: AbortSignal): Promise<DumpToc> {
  const env = pgEnv(pg);
  const toc = parseToc(await runPgRestore(['-l', dumpPath], env, signal));
  await withClient(clientConfig(pg), async (c) => {
    const exists = await c.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
    if (!exists.rowCount) await c.query(`CREATE DATABASE ${ident(database)}`);
  });
  await withClient(clientConfig(pg, database), async (c) => {
    for (const ext of toc.extensions) {
      try {
        await c.query(`CREATE EXTENSION IF NOT EXISTS ${ident(ext)}`);
      } catch (err) {
        throw new RuntimeError(`extension ${ext} (in the dump) can't be created on the standby: ${oneLine(err)}; allow it on the server (Azure Flexible Server: the azure.extensions parameter; Cloud SQL: supported extensions) and list it in the plan's datasets[].extensions`);
      }
    }
  });
  const listPath = `${dumpPath}.list`;
  await fs.writeFile(listPath, tocWithoutExtensions(toc));
  try {
    // a fresh database needs no single transaction (it is dropped on failure), so the restore can run in parallel
    const jobs = String(Math.max(1, Math.min(4, availableParallelism())));
    await runPgRestore(['--no-owner', '--no-acl', '--exit-on-error', '--jobs', jobs, '-L', listPath, '-d', database, dumpPath], env, signal);
  } finally {
    await fs.rm(listPath, { force: true });
  }
  const present = await withClient(clientConfig(pg, database), async (c) => new Set((await c.query(`SELECT schemaname || '.' || tablename AS t FROM pg_tables`)).rows.map((r) => r.t as string)));
  const missing = toc.tables.filter((t) => !present.has(`${t.schema}.${t.name}`));
  if (missing.length) throw new JobFailure('count-mismatch', `database ${database}: ${missing.length} of the dump's ${toc.tables.length} tables are missing after pg_restore (first: ${missing[0].schema}.${missing[0].name})`);
  return toc;
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

/** The data files of the (single, completed) DynamoDB export under a dataset's night prefix. */
export function dynamoDataFiles(ds: ManifestDataset, entries: ManifestEntry[]): ManifestEntry[] {
  void ds;
  return dynamoExportFiles(entries).files;
}

/** The item count the export states (AWS manifest-summary.json `itemCount`, or the exporter's export-summary.json). */
async function dynamoExpectedItems(store: ObjectStore, entries: ManifestEntry[]): Promise<number | undefined> {
  const { id } = dynamoExportFiles(entries);
  const summary = entries.find((e) => id && e.key.endsWith(`AWSDynamoDB/${id}/manifest-summary.json`)) ?? entries.find((e) => e.key.endsWith('/export-summary.json'));
  if (!summary) return undefined;
  const raw = JSON.parse((await store.getBytes(summary.key)).toString('utf8')) as { itemCount?: unknown; ItemCount?: unknown };
  const n = Number(raw.itemCount ?? raw.ItemCount);
  return Number.isSafeInteger(n) ? n : undefined;
}

async function loadDynamoDataset(c: Client, store: ObjectStore, ds: ManifestDataset, entries: ManifestEntry[], keys: DynamoKeySpec[], batchSize: number, signal: AbortSignal): Promise<{ table: string; items: number }> {
  const table = dynamoTableName(ds.name);
  const cols = keys.map((k) => `${ident(k.name)} ${columnType(k.type)} NOT NULL`).join(', ');
  await c.query(`CREATE TABLE ${STAGING_SCHEMA}.${ident(table)} (${cols}, item jsonb NOT NULL, item_typed jsonb NOT NULL, PRIMARY KEY (${keys.map((k) => ident(k.name)).join(', ')}))`);
  const selectCols = keys.map((k, i) => (k.type === 'N' ? `k${i}::numeric` : k.type === 'B' ? `decode(k${i}, 'base64')` : `k${i}`));
  const n = keys.length;
  const sql = `INSERT INTO ${STAGING_SCHEMA}.${ident(table)} (${keys.map((k) => ident(k.name)).join(', ')}, item, item_typed)
    SELECT ${selectCols.join(', ')}, item::jsonb, typed::jsonb FROM unnest(${keys.map((_, i) => `$${i + 1}::text[]`).join(', ')}, $${n + 1}::text[], $${n + 2}::text[]) AS t(${keys.map((_, i) => `k${i}`).join(', ')}, item, typed)`;
  let items = 0;
  let batch: string[][] = keys.map(() => []);
  let docs: string[] = [];
  let typed: string[] = [];
  const flush = async (): Promise<void> => {
    if (!docs.length) return;
    signal.throwIfAborted();
    await c.query(sql, [...batch, docs, typed]);
    items += docs.length;
    batch = keys.map(() => []);
    docs = [];
    typed = [];
  };
  for (const file of dynamoDataFiles(ds, entries)) {
    const hashing = new HashingPassThrough();
    const source = await store.get(file.key);
    const onAbort = (): void => { source.destroy(abortError(signal)); };
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      source.on('error', (e) => hashing.destroy(e));
      const gunzip = createGunzip();
      hashing.on('error', (e) => gunzip.destroy(e));
      const lines = createInterface({ input: source.pipe(hashing).pipe(gunzip), crlfDelay: Infinity });
      for await (const line of lines) {
        if (!line.trim()) continue;
        const item = (JSON.parse(line) as { Item: Record<string, AttributeValueJson> }).Item;
        keys.forEach((k, i) => batch[i].push(keyValueText(item[k.name], k.name)));
        docs.push(itemToJsonText(item));
        typed.push(JSON.stringify(item));
        if (docs.length >= batchSize) await flush();
      }
    } finally {
      signal.removeEventListener('abort', onAbort);
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
  // the attempt in progress (or the last failed one) is kept apart from what the standby holds
  await c.query(`ALTER TABLE ${CONTROL_SCHEMA}.restore_status ADD COLUMN IF NOT EXISTS attempt_night text, ADD COLUMN IF NOT EXISTS attempt_state text,
    ADD COLUMN IF NOT EXISTS attempt_started_at timestamptz, ADD COLUMN IF NOT EXISTS attempt_error text`);
}

/** Runs tasks together; the first failure aborts the others, and all are awaited before it is thrown. */
export async function allOrAbort(tasks: readonly ((signal: AbortSignal) => Promise<void>)[], ctl: AbortController): Promise<void> {
  let first: unknown;
  const settled = await Promise.allSettled(tasks.map((t) => t(ctl.signal).catch((err) => {
    if (first === undefined) first = err;
    if (!ctl.signal.aborted) ctl.abort(err);
    throw err;
  })));
  if (settled.some((s) => s.status === 'rejected')) throw first;
}

async function selectNight(opts: RestoreOptions, recordsStore: ObjectStore): Promise<{ night: string; stored: StoredManifest }> {
  const store = opts.store;
  const selector = opts.night ?? 'latest-verified';
  if (selector === 'latest-verified') {
    const found = await latestVerifiedNight(store, recordsStore);
    if (!found) throw new JobFailure('not-verified', `${recordsStore.url}: no verified night to restore (no successful verifications/<night>/ record matching its manifest); run verify first`);
    return { night: found.night, stored: found.manifest };
  }
  if (!naming.isNightId(selector)) throw new RuntimeError(`not a night: ${JSON.stringify(selector)} (use YYYY-MM-DD or latest-verified)`);
  const found = await verifiedManifest(store, recordsStore, selector);
  if (found) return { night: selector, stored: found.manifest };
  const record = await readRecord(recordsStore, selector);
  if (record?.result === 'success') {
    await readManifest(store, selector);
    throw new JobFailure('not-verified', `night ${selector}: the manifest changed after it was verified; not restoring it`);
  }
  throw new JobFailure('not-verified', `night ${selector} is not verified (${record ? `its last verification says ${record.result}` : 'no verification record'}); run verify first`);
}

/** The newest night this standby ever restored: its restoration records and its own history. */
async function lastRestoredNight(pg: PgTarget, recordsStore: ObjectStore): Promise<string | undefined> {
  const fromRecords = (await latestRestoration(recordsStore))?.night;
  const fromDb = await withClient(clientConfig(pg), async (c) => {
    const t = await c.query(`SELECT to_regclass('${CONTROL_SCHEMA}.restore_history') AS t`);
    if (!t.rows[0].t) return undefined;
    return ((await c.query(`SELECT max(night) AS n FROM ${CONTROL_SCHEMA}.restore_history`)).rows[0].n as string | null) ?? undefined;
  });
  return [fromRecords, fromDb].filter((n): n is string => Boolean(n)).sort().pop();
}

function freshDatabaseName(target: string, night: string): string {
  return `${target.slice(0, 40)}__cp_${night.replace(/-/g, '')}_${randomBytes(3).toString('hex')}`;
}

async function dropDatabases(pg: PgTarget, names: readonly string[]): Promise<void> {
  if (!names.length) return;
  await withClient(clientConfig(pg), async (c) => {
    for (const n of names) await c.query(`DROP DATABASE IF EXISTS ${ident(n)} WITH (FORCE)`).catch(() => undefined);
  });
}

/** Restores a verified night into the standby. Writes ONE `counterparty.restore` result line; throws (JobFailure/RuntimeError) when it fails. */
export async function restoreNight(opts: RestoreOptions): Promise<RestoreResult> {
  const t0 = Date.now();
  const now = opts.now ?? (() => new Date());
  const store = opts.store;
  const recordsStore = opts.recordsStore ?? store;
  const cfg = opts.freshness ?? { rpoHours: 24, alarmGraceHours: 6 };
  const freshness = async (): Promise<Record<string, unknown>> => {
    try { return freshnessFields(await readFreshness(store, recordsStore, cfg, now()), 'restored'); } catch { return {}; }
  };
  let night: string | undefined;
  try {
    const selected = await selectNight(opts, recordsStore);
    night = selected.night;
    const result = await restoreSelected(opts, selected.night, selected.stored, recordsStore, now);
    const seconds = (Date.now() - t0) / 1000;
    const datasets = [...result.postgres.map((p) => p.dataset), ...result.dynamodb.map((d) => d.dataset)];
    const logLine = logEvent('counterparty.restore', {
      result: 'success', night: selected.night, manifestSha256: selected.stored.sha256, store: store.url, seconds, forced: Boolean(opts.force), datasets,
      postgres: result.postgres, dynamodb: result.dynamodb, objects: result.objects, connectDocuments: result.connectDocuments, ...(result.appRole ? { appRole: result.appRole } : {}), ...(await freshness()),
    });
    return { ...result, seconds, logLine };
  } catch (err) {
    const f = failureFields(err);
    // aborted from outside (SIGTERM): cancelled, whatever error the interrupted step happened to throw
    const reason: Reason = opts.signal?.aborted ? 'cancelled' : err instanceof JobFailure || f.reason === 'cancelled' ? f.reason : 'restore-failed';
    logEvent('counterparty.restore', { ...f, reason, night: night ?? null, store: store.url, ...(await freshness()) });
    if (err instanceof JobFailure && err.reason === reason) throw err;
    throw new JobFailure(reason, night ? `restore of night ${night} failed: ${oneLine(err)}` : oneLine(err), {}, err instanceof RuntimeError && !(err instanceof JobFailure) && !night ? 1 : 2);
  }
}

async function restoreSelected(opts: RestoreOptions, night: string, stored: StoredManifest, recordsStore: ObjectStore, now: () => Date): Promise<Omit<RestoreResult, 'seconds' | 'logLine'>> {
  const store = opts.store;
  const manifest = stored.manifest;
  const last = await lastRestoredNight(opts.pg, recordsStore);
  if (last && night < last && !opts.force) {
    throw new JobFailure('older-night', `night ${night} is older than night ${last}, which this standby already restored; restoring it would roll the standby back (use --force / CP_FORCE=1 to do it on purpose)`);
  }
  const inNight = new Map(manifest.datasets.map((d) => [d.name, d]));
  const missing = (opts.datasets ?? []).filter((d) => !inNight.has(d.name));
  if (missing.length) throw new JobFailure('incomplete-night', `night ${night} lacks dataset(s) ${missing.map((d) => d.name).join(', ')} of the plan; not restoring a partial night`);
  const allowEmpty = new Set((opts.datasets ?? []).filter((d) => d.allowEmpty).map((d) => d.name));
  const startedAt = now();
  const workDir = await fs.mkdtemp(join(opts.workDir ?? tmpdir(), 'cp-restore-'));
  const ctl = new AbortController();
  const onOuterAbort = (): void => ctl.abort(opts.signal?.reason);
  opts.signal?.addEventListener('abort', onOuterAbort, { once: true });
  if (opts.signal?.aborted) ctl.abort(opts.signal.reason);
  const control = new Client(clientConfig(opts.pg));
  await control.connect();
  const fresh: { dataset: string; target: string; fresh: string }[] = [];
  const result: { -readonly [K in keyof Omit<RestoreResult, 'seconds' | 'logLine'>]: RestoreResult[K] } = { night, manifestSha256: stored.sha256, postgres: [], dynamodb: [], objects: 0, connectDocuments: 0, ...(opts.appRole ? { appRole: opts.appRole.name } : {}) };
  const counters = { objects: 0, connectDocuments: 0 };
  try {
    // one restore at a time into this standby
    await control.query(`SELECT pg_advisory_lock(hashtext('counterparty.restore'))`);
    await ensureControl(control);
    // the live night stays what it was (nothing live changes until the switch); the attempt is tracked beside it
    await control.query(`INSERT INTO ${CONTROL_SCHEMA}.restore_status (id, night, state, attempt_night, attempt_state, attempt_started_at, attempt_error)
      VALUES (1, NULL, 'empty', $1, 'in_progress', $2, NULL)
      ON CONFLICT (id) DO UPDATE SET attempt_night = EXCLUDED.attempt_night, attempt_state = 'in_progress', attempt_started_at = EXCLUDED.attempt_started_at, attempt_error = NULL`,
    [night, startedAt]);
    if (opts.appRole) await prepareAppRole(control, opts.appRole, opts.pg.user);
    progress(`restore: night ${night} (manifest ${stored.sha256.slice(0, 12)}…) into ${opts.pg.host}:${opts.pg.port}`);
    const entriesOf = (ds: ManifestDataset): ManifestEntry[] => manifest.entries.filter((e) => e.dataset === ds.name);

    const postgresWork = async (signal: AbortSignal): Promise<void> => {
      for (const ds of manifest.datasets.filter((d) => d.kind === 'postgres')) {
        signal.throwIfAborted();
        const t = Date.now();
        const dumpKey = naming.postgresDumpKey(night, ds.name);
        const entry = entriesOf(ds).find((e) => e.key === dumpKey);
        if (!entry) throw new JobFailure('incomplete-night', `night ${night}: dataset ${ds.name} has no ${dumpKey} in the manifest`);
        const path = join(workDir, `${ds.name}.pgdump`);
        await downloadVerified(store, entry, path, signal);
        const target = opts.pgDatabases?.[ds.name] ?? ds.name;
        if (target === opts.pg.database) throw new RuntimeError(`dataset ${ds.name}: its database ${target} is PGDATABASE, where the restorer keeps its control schema; give it another name in CP_PG_DATABASES`);
        const freshName = freshDatabaseName(target, night);
        fresh.push({ dataset: ds.name, target, fresh: freshName });
        const toc = await restorePostgresDump(opts.pg, freshName, path, signal);
        if (toc.tables.length === 0 && !allowEmpty.has(ds.name)) throw new JobFailure('empty-dataset', `dataset ${ds.name}: the dump of night ${night} has no tables (the plan does not set allowEmpty)`);
        // granted before the switch, so the application never sees a restored database it can't read
        if (opts.appRole) await grantAppAccess(opts.pg, freshName, opts.appRole.name);
        await fs.rm(path, { force: true });
        result.postgres.push({ dataset: ds.name, database: target, bytes: entry.size, tables: toc.tables.length, seconds: (Date.now() - t) / 1000 });
        progress(`restore: postgres ${ds.name} → database ${target} via ${freshName} (${entry.size} bytes, ${toc.tables.length} tables) in ${((Date.now() - t) / 1000).toFixed(1)} s`);
      }
    };

    const stagingWork = async (signal: AbortSignal): Promise<void> => {
      await withClient(clientConfig(opts.pg), async (c) => {
        await c.query(`DROP SCHEMA IF EXISTS ${STAGING_SCHEMA} CASCADE`);
        await c.query(`CREATE SCHEMA ${STAGING_SCHEMA}`);
        for (const ds of manifest.datasets.filter((d) => d.kind === 'dynamoDbTable')) {
          signal.throwIfAborted();
          const t = Date.now();
          const entries = entriesOf(ds);
          const keys = await dynamoKeySpec(store, ds, entries, opts.dynamoKeys?.[ds.name]);
          const loaded = await loadDynamoDataset(c, store, ds, entries, keys, opts.batchSize ?? 5000, signal);
          const expected = ds.summary.items ?? await dynamoExpectedItems(store, entries);
          if (expected !== undefined && loaded.items !== expected) throw new JobFailure('count-mismatch', `dataset ${ds.name}: restored ${loaded.items} items, the export says ${expected}`);
          if (loaded.items === 0 && !allowEmpty.has(ds.name)) throw new JobFailure('empty-dataset', `dataset ${ds.name}: no items in night ${night} (the plan does not set allowEmpty)`);
          result.dynamodb.push({ dataset: ds.name, table: `${LIVE_SCHEMA}.${loaded.table}`, items: loaded.items, seconds: (Date.now() - t) / 1000 });
          progress(`restore: dynamodb ${ds.name} → ${LIVE_SCHEMA}.${loaded.table} (${loaded.items} items) in ${((Date.now() - t) / 1000).toFixed(1)} s`);
        }
        signal.throwIfAborted();
        // every object of each s3Bucket dataset's view that night (streamed from the index), where the application reaches its bytes
        await c.query(`CREATE TABLE ${STAGING_SCHEMA}.objects (dataset text NOT NULL, key text NOT NULL, size bigint NOT NULL, sha256 text NOT NULL, location text NOT NULL, night text NOT NULL,
          content_type text, metadata jsonb, PRIMARY KEY (dataset, key))`);
        const reader = await readNight(store, night);
        if (reader.sha256 !== stored.sha256) throw new RuntimeError(`night ${night}: the manifest changed while it was restored; not restoring it`);
        for (const ds of manifest.datasets.filter((d) => d.kind === 's3Bucket')) {
          let part: IndexEntry[] = [];
          let listed = 0;
          const flush = async (): Promise<void> => {
            if (!part.length) return;
            signal.throwIfAborted();
            await c.query(`INSERT INTO ${STAGING_SCHEMA}.objects (dataset, key, size, sha256, location, night, content_type, metadata)
              SELECT $1, k, s::bigint, h, l, $7, ct, md::jsonb FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $8::text[]) AS t(k, s, h, l, ct, md)`,
            [ds.name, part.map((x) => x.key), part.map((x) => String(x.size)), part.map((x) => x.sha256), part.map((x) => store.locationOf(x.blob)), part.map((x) => x.contentType), night, part.map((x) => JSON.stringify(x.metadata ?? {}))]);
            listed += part.length;
            part = [];
          };
          for await (const entry of reader.entries(ds.name)) {
            part.push(entry);
            if (part.length >= 5000) await flush();
          }
          await flush();
          if (listed !== ds.objects) throw new JobFailure('count-mismatch', `dataset ${ds.name}: its index lists ${listed} objects, the manifest says ${ds.objects}`);
          if (listed === 0 && !allowEmpty.has(ds.name)) throw new JobFailure('empty-dataset', `dataset ${ds.name}: no objects in night ${night} (the plan does not set allowEmpty)`);
          counters.objects += listed;
        }
        await c.query(`CREATE TABLE ${STAGING_SCHEMA}.connect_config (night text NOT NULL, dataset text NOT NULL, resource_type text NOT NULL, document jsonb NOT NULL, sha256 text NOT NULL, PRIMARY KEY (night, dataset, resource_type))`);
        const live = await c.query(`SELECT 1 FROM information_schema.tables WHERE table_schema = $1 AND table_name = 'connect_config'`, [LIVE_SCHEMA]);
        if (live.rowCount) await c.query(`INSERT INTO ${STAGING_SCHEMA}.connect_config SELECT * FROM ${LIVE_SCHEMA}.connect_config WHERE night <> $1`, [night]);
        for (const ds of manifest.datasets.filter((d) => d.kind === 'connectInstance')) {
          let documents = 0;
          let indexed: number | undefined;
          for (const entry of entriesOf(ds).filter((x) => x.key.endsWith('.json') && !x.key.slice(ds.prefix.length).includes('/'))) {
            signal.throwIfAborted();
            const bytes = await store.getBytes(entry.key);
            if (bytes.length !== entry.size || sha256Hex(bytes) !== entry.sha256) throw new RuntimeError(`${store.url}/${entry.key}: does not match the manifest; not restoring it`);
            const type = entry.key.slice(ds.prefix.length).replace(/\.json$/, '');
            if (type === 'index') indexed = ((JSON.parse(bytes.toString('utf8')) as { files?: { key: string }[] }).files ?? []).filter((f) => f.key.endsWith('.json') && !f.key.includes('/')).length;
            await c.query(`INSERT INTO ${STAGING_SCHEMA}.connect_config VALUES ($1, $2, $3, $4::jsonb, $5)`, [night, ds.name, type, bytes.toString('utf8'), entry.sha256]);
            documents++;
          }
          if (indexed === undefined) throw new JobFailure('incomplete-night', `dataset ${ds.name}: no index.json in night ${night}`);
          if (documents !== indexed + 1) throw new JobFailure('count-mismatch', `dataset ${ds.name}: restored ${documents - 1} documents, its index lists ${indexed}`);
          counters.connectDocuments += documents;
        }
      });
    };

    await allOrAbort([postgresWork, stagingWork], ctl);
    result.objects = counters.objects;
    result.connectDocuments = counters.connectDocuments;

    // the switch and the completion marker, in one transaction
    const completedAt = now();
    const stamp = completedAt.toISOString().replace(/\D/g, '').slice(0, 14);
    const retired: string[] = [];
    const detail = { postgres: result.postgres, dynamodb: result.dynamodb, objects: result.objects, connectDocuments: result.connectDocuments, store: store.url, forced: Boolean(opts.force) };
    await control.query('BEGIN');
    for (const f of fresh) {
      const exists = await control.query('SELECT 1 FROM pg_database WHERE datname = $1', [f.target]);
      if (exists.rowCount) {
        const old = `${f.target.slice(0, 40)}__cp_old_${stamp}`;
        await control.query(`ALTER DATABASE ${ident(f.target)} RENAME TO ${ident(old)}`);
        retired.push(old);
      }
      await control.query(`ALTER DATABASE ${ident(f.fresh)} RENAME TO ${ident(f.target)}`);
    }
    if (opts.appRole) {
      // the restored recordings view, contact records and Connect configuration: read-only for the application
      const app = ident(opts.appRole.name);
      await control.query(`GRANT CONNECT ON DATABASE ${ident(opts.pg.database)} TO ${app}`);
      await control.query(`GRANT USAGE ON SCHEMA ${STAGING_SCHEMA} TO ${app}`);
      await control.query(`GRANT SELECT ON ALL TABLES IN SCHEMA ${STAGING_SCHEMA} TO ${app}`);
    }
    await control.query(`DROP SCHEMA IF EXISTS ${LIVE_SCHEMA} CASCADE`);
    await control.query(`ALTER SCHEMA ${STAGING_SCHEMA} RENAME TO ${LIVE_SCHEMA}`);
    await control.query(`UPDATE ${CONTROL_SCHEMA}.restore_status SET night = $3, manifest_sha256 = $4, started_at = $5, state = 'complete', completed_at = $1, detail = $2,
      attempt_state = 'complete', attempt_error = NULL WHERE id = 1`, [completedAt, JSON.stringify(detail), night, stored.sha256, startedAt]);
    await control.query(`INSERT INTO ${CONTROL_SCHEMA}.restore_history VALUES ($1, $2, $3, $4, $5)`, [night, stored.sha256, startedAt, completedAt, JSON.stringify(detail)]);
    await control.query('COMMIT');
    fresh.length = 0;
    await dropDatabases(opts.pg, retired);
    if (opts.writeRecord !== false) {
      const record: RestorationRecord = {
        formatVersion: 1, night, manifestSha256: stored.sha256, manifestCreatedAt: manifest.createdAt, restoredAt: completedAt.toISOString(),
        target: `${opts.pg.host}:${opts.pg.port}/${opts.pg.database}`, datasets: manifest.datasets.map((d) => d.name), forced: Boolean(opts.force),
      };
      try {
        await putRecord(recordsStore, restorationKey(night, completedAt), record);
      } catch (err) {
        throw new JobFailure('record-write-failed', `night ${night} was restored, but its restoration record could not be written to ${recordsStore.url}: ${oneLine(err)}`);
      }
    }
    return result;
  } catch (err) {
    if (!ctl.signal.aborted) ctl.abort(err);
    await control.query('ROLLBACK').catch(() => undefined);
    await dropDatabases(opts.pg, fresh.map((f) => f.fresh));
    await control.query(`DROP SCHEMA IF EXISTS ${STAGING_SCHEMA} CASCADE`).catch(() => undefined);
    await control.query(`UPDATE ${CONTROL_SCHEMA}.restore_status SET attempt_state = 'failed', attempt_error = $1 WHERE id = 1`, [oneLine(err)]).catch(() => undefined);
    throw err;
  } finally {
    opts.signal?.removeEventListener('abort', onOuterAbort);
    await control.end().catch(() => undefined);
    await fs.rm(workDir, { recursive: true, force: true });
  }
}

export interface StandbyStatus {
  /** The night the standby holds (null before the first restore) and `complete` | `empty`. */
  readonly night: string | null;
  readonly state: string;
  readonly manifestSha256: string | null;
  readonly completedAt: string | null;
  /** The latest attempt: `in_progress`, `complete` or `failed` (with its error). */
  readonly attempt: { readonly night: string | null; readonly state: string | null; readonly error: string | null };
}

/** What the standby says about itself: the night it holds, and the latest restore attempt. */
export async function restoreStatus(pg: PgTarget): Promise<StandbyStatus | undefined> {
  return withClient(clientConfig(pg), async (c) => {
    const t = await c.query(`SELECT to_regclass('${CONTROL_SCHEMA}.restore_status') AS t`);
    if (!t.rows[0].t) return undefined;
    const r = await c.query(`SELECT * FROM ${CONTROL_SCHEMA}.restore_status WHERE id = 1`);
    if (!r.rowCount) return undefined;
    const row = r.rows[0];
    return {
      night: row.night, state: row.state, manifestSha256: row.manifest_sha256, completedAt: row.completed_at ? new Date(row.completed_at).toISOString() : null,
      attempt: { night: row.attempt_night ?? null, state: row.attempt_state ?? null, error: row.attempt_error ?? null },
    };
  });
}
