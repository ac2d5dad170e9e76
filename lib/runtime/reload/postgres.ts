/**
 * Reload of a `postgres` dataset: the night's `pg_dump -Fc` archive is downloaded (checked against
 * the manifest) and loaded with `pg_restore -j <n>` into a database the reload creates. The proof
 * reads every table's rows back with `COPY … TO STDOUT` and compares row counts and a SHA-256 of
 * the rows with the archive's own data (`pg_restore --data-only -f -`), table by table.
 */
import { spawn } from 'node:child_process';
import { createWriteStream, promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { pipeline } from 'node:stream/promises';
import { createHash } from 'node:crypto';
import { Client } from 'pg';
import { RuntimeError, oneLine } from '../errors';
import type { ObjectStore } from '../stores/types';
import { HashingPassThrough } from '../util';
import type { NightObject } from './dynamodb';
import type { ReloadJournal } from './journal';
import type { PostgresTarget } from './target';

export interface TableDigest { readonly rows: number; readonly sha256: string }

function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

function pgEnv(t: PostgresTarget, database?: string): NodeJS.ProcessEnv {
  return { ...process.env, PGHOST: t.host, PGPORT: String(t.port), PGUSER: t.user, ...(t.password ? { PGPASSWORD: t.password } : {}), ...(database ? { PGDATABASE: database } : {}) };
}

async function withClient<T>(t: PostgresTarget, database: string, fn: (c: Client) => Promise<T>): Promise<T> {
  const c = new Client({ host: t.host, port: t.port, user: t.user, password: t.password, database });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end().catch(() => undefined);
  }
}

/** Runs a PostgreSQL client tool; each stdout line goes to `onLine`; rejects with stderr on a non-zero exit. */
function runTool(tool: string, args: string[], env: NodeJS.ProcessEnv, onLine?: (line: string) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(tool, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d: Buffer) => { err = (err + d.toString()).slice(-20_000); });
    const lines = createInterface({ input: child.stdout, crlfDelay: Infinity });
    if (onLine) lines.on('line', onLine);
    else child.stdout.resume();
    child.on('error', (e) => reject(new RuntimeError(`reload: could not run ${tool} (${oneLine(e)})`)));
    child.on('close', (code) => (code === 0 ? resolve() : reject(new RuntimeError(`reload: ${tool} exited ${code}: ${oneLine(err.trim().split('\n').slice(-3).join(' '))}`))));
  });
}

/**
 * Per table (`schema.table (columns)` as the archive's COPY statement names it): row count and the
 * SHA-256 of its COPY text rows, in archive order.
 */
export async function archiveTableDigests(dumpPath: string): Promise<Map<string, TableDigest>> {
  const out = new Map<string, TableDigest>();
  let current: { name: string; hash: ReturnType<typeof createHash>; rows: number } | undefined;
  await runTool('pg_restore', ['--data-only', '-f', '-', dumpPath], process.env, (line) => {
    if (current) {
      if (line === '\\.') {
        out.set(current.name, { rows: current.rows, sha256: current.hash.digest('hex') });
        current = undefined;
      } else {
        current.hash.update(`${line}\n`);
        current.rows++;
      }
      return;
    }
    const m = /^COPY (.+) FROM stdin;$/.exec(line);
    if (m) current = { name: m[1], hash: createHash('sha256'), rows: 0 };
  });
  return out;
}

/** The same digest of a loaded table, read back with COPY … TO STDOUT. */
export async function targetTableDigest(t: PostgresTarget, database: string, copyTarget: string): Promise<TableDigest> {
  const hash = createHash('sha256');
  let rows = 0;
  await runTool('psql', ['-X', '-v', 'ON_ERROR_STOP=1', '-c', `COPY ${copyTarget} TO STDOUT`], pgEnv(t, database), (line) => {
    hash.update(`${line}\n`);
    rows++;
  });
  return { rows, sha256: hash.digest('hex') };
}

async function databaseState(t: PostgresTarget): Promise<'missing' | 'empty' | 'has-tables'> {
  const exists = await withClient(t, 'postgres', async (c) => (await c.query('SELECT 1 FROM pg_database WHERE datname = $1', [t.database])).rowCount);
  if (!exists) return 'missing';
  const tables = await withClient(t, t.database, async (c) => Number((await c.query(`SELECT count(*) AS n FROM pg_class k JOIN pg_namespace n ON n.oid = k.relnamespace
    WHERE k.relkind IN ('r', 'p') AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%'`)).rows[0].n));
  return tables === 0 ? 'empty' : 'has-tables';
}

/** Whether the target database exists with tables in it (a non-empty target). */
export async function postgresTargetHasData(t: PostgresTarget): Promise<boolean> {
  return (await databaseState(t)) === 'has-tables';
}

async function download(store: ObjectStore, o: NightObject, path: string): Promise<void> {
  const hashing = new HashingPassThrough();
  await pipeline(await store.get(o.key), hashing, createWriteStream(path));
  if (hashing.size !== o.size || hashing.sha256 !== o.sha256) throw new RuntimeError(`reload: ${store.url}/${o.key} does not match the manifest (size ${hashing.size} vs ${o.size}, sha256 ${hashing.sha256} vs ${o.sha256})`);
}

export interface PostgresReloadOptions {
  readonly source: ObjectStore;
  readonly dataset: string;
  readonly dump: NightObject;
  readonly target: PostgresTarget;
  readonly journal: ReloadJournal;
  /** Load into a database that already has tables (logged; pg_restore --clean replaces the dump's objects). */
  readonly force?: boolean;
  readonly workDir?: string;
}

export interface PostgresReloadResult { readonly database: string; readonly bytes: number; readonly seconds: number; readonly tables: number; readonly problems: string[] }

/**
 * Makes the target database ready: created when missing (owned by this reload), dropped and
 * created again when this reload made it and did not finish, used when it exists empty; an
 * existing database with tables is refused unless `force`.
 */
async function prepareDatabase(opts: PostgresReloadOptions): Promise<{ clean: boolean }> {
  const t = opts.target;
  const resource = `postgres:${t.host}:${t.port}/${t.database}`;
  const state = await databaseState(t);
  if (opts.journal.owns(resource)) {
    if (state !== 'missing') await withClient(t, 'postgres', (c) => c.query(`DROP DATABASE ${quoteIdent(t.database)} WITH (FORCE)`));
  } else if (state === 'has-tables') {
    if (!opts.force) throw new RuntimeError(`reload: target database ${t.database} on ${t.host}:${t.port} already has tables; refusing to load into it. Fix: give a new database name in the target file, or pass --force to replace the dump's objects in it.`);
    return { clean: true };
  } else if (state === 'empty') {
    return { clean: opts.journal.resumed };
  }
  await withClient(t, 'postgres', (c) => c.query(`CREATE DATABASE ${quoteIdent(t.database)}`));
  opts.journal.markOwned(resource);
  return { clean: false };
}

export async function reloadPostgres(opts: PostgresReloadOptions): Promise<PostgresReloadResult> {
  const t0 = Date.now();
  const dir = await fs.mkdtemp(join(opts.workDir ?? tmpdir(), 'cp-reload-pg-'));
  try {
    const dumpPath = join(dir, 'dump.pgdump');
    await download(opts.source, opts.dump, dumpPath);
    const { clean } = await prepareDatabase(opts);
    const args = ['--no-owner', '--no-privileges', '--exit-on-error', '-j', String(opts.target.jobs), '-d', opts.target.database, ...(clean ? ['--clean', '--if-exists'] : []), dumpPath];
    await runTool('pg_restore', args, pgEnv(opts.target));
    const { tables, problems } = await provePostgres(opts.target, dumpPath);
    return { database: opts.target.database, bytes: opts.dump.size, seconds: (Date.now() - t0) / 1000, tables, problems };
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
}

/** Compares every table of the archive with the loaded database: the tables compared and the problems. */
export async function provePostgres(t: PostgresTarget, dumpPath: string): Promise<{ tables: number; problems: string[] }> {
  const problems: string[] = [];
  const digests = await archiveTableDigests(dumpPath);
  for (const [table, want] of digests) {
    let got: TableDigest;
    try {
      got = await targetTableDigest(t, t.database, table);
    } catch (err) {
      problems.push(`${table}: cannot be read back (${oneLine(err)})`);
      continue;
    }
    if (got.rows !== want.rows) problems.push(`${table}: ${got.rows} rows, the night has ${want.rows}`);
    else if (got.sha256 !== want.sha256) problems.push(`${table}: rows differ from the night's (sha256 ${got.sha256} vs ${want.sha256})`);
  }
  return { tables: digests.size, problems };
}
