/**
 * The standby application's own database role gets its rights from the restore (issue 12 §5), against
 * real PostgreSQL 15: the CRM (with pgcrypto) is dumped on one cluster and restored into ANOTHER, whose
 * pg_hba.conf asks every role but the restorer for a SCRAM password, so the login is really checked.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { setErrorSink, setLogSink } from '../../lib/runtime/log';
import { appRoleFromEnv, restoreNight, restoreStatus, scramSha256Verifier, type PgTarget } from '../../lib/runtime/restorer';
import { runCommand } from '../../lib/runtime/jobs';
import { verifyNight } from '../../lib/runtime/verifier';
import { FileStore } from '../../lib/runtime/stores';
import { startPostgres, type PostgresService } from '../../scripts/services';
import { seedCrm } from '../../scripts/drill/seed';
import { writeNight } from './night-fixture';

const NIGHT = '2026-11-05';
const IAM_ROLE = 'acme-cc-app@acme-cc-dr.iam';
let source: PostgresService;
let standbyPg: PostgresService;
let standby: PgTarget;
let store: FileStore;
let dir: string;
const lines: string[] = [];

function conn(database: string, user?: string, password?: string): { host: string; port: number; user: string; password?: string; database: string } {
  return { host: standbyPg.host, port: standbyPg.port, user: user ?? standbyPg.user, database, ...(password !== undefined ? { password } : {}) };
}

async function withLogin<T>(database: string, user: string, password: string, fn: (c: Client) => Promise<T>): Promise<T> {
  const c = new Client(conn(database, user, password));
  await c.connect();
  try { return await fn(c); } finally { await c.end(); }
}

async function asAdmin<T = Record<string, unknown>>(database: string, sql: string, params: unknown[] = []): Promise<T[]> {
  const c = new Client(conn(database));
  await c.connect();
  try { return (await c.query(sql, params)).rows as T[]; } finally { await c.end(); }
}

/** Runs `sql` as `role` (SET ROLE from the superuser: for the password-less IAM role). */
async function asRole(database: string, role: string, sql: string): Promise<unknown[]> {
  const c = new Client(conn(database));
  await c.connect();
  try {
    await c.query(`SET ROLE "${role}"`);
    return (await c.query(sql)).rows;
  } finally { await c.end(); }
}

const lastRestoreLine = (): Record<string, unknown> => JSON.parse(lines.filter((l) => l.includes('"counterparty.restore"')).pop()!);

beforeAll(async () => {
  setLogSink({ line: (l) => { lines.push(l); } });
  setErrorSink({ line: () => undefined });
  [source, standbyPg] = await Promise.all([startPostgres('approle-src'), startPostgres('approle-standby')]);
  await seedCrm({ host: source.host, port: source.port, user: source.user }, 'crm', { recordings: 0, recordingBytes: 0, contactRecords: 0, crmCustomers: 200 });
  const src = new Client({ host: source.host, port: source.port, user: source.user, database: 'crm' });
  await src.connect();
  await src.query('CREATE SEQUENCE case_number_seq START 1000; SELECT nextval(\'case_number_seq\')');
  await src.end();
  const d = spawnSync('pg_dump', ['-Fc', '-h', source.host, '-p', String(source.port), '-U', source.user, '-d', 'crm'], { maxBuffer: 1 << 28 });
  expect(d.status).toBe(0);
  dir = mkdtempSync(join(tmpdir(), 'cp-approle-'));
  store = new FileStore(join(dir, 'counterparty'));
  await writeNight(store, NIGHT, { crm: d.stdout, recordings: new Map([['calls/a.wav', 'aaaa']]) });
  expect((await verifyNight({ store, night: NIGHT })).result).toBe('success');
  // the standby: the restorer (postgres) is trusted, every other role must present its SCRAM password
  const hba = (await asAdmin<{ hba_file: string }>('postgres', 'SHOW hba_file'))[0].hba_file;
  await asAdmin('postgres', `COPY (VALUES ('local all postgres trust'), ('host all postgres 127.0.0.1/32 trust'), ('host all all 127.0.0.1/32 scram-sha-256')) TO '${hba}'`);
  await asAdmin('postgres', 'SELECT pg_reload_conf()');
  await asAdmin('postgres', 'CREATE DATABASE standby');
  standby = { host: standbyPg.host, port: standbyPg.port, user: standbyPg.user, database: 'standby' };
}, 120_000);

afterAll(async () => {
  await Promise.all([source?.stop(), standbyPg?.stop()]);
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('Azure: the application login (CP_APP_DB_USER / CP_APP_DB_PASSWORD)', () => {
  test('is created by the restore (no superuser, no createdb/createrole) and can read and write the restored CRM, with its pgcrypto column', async () => {
    const r = await restoreNight({ store, pg: standby, night: NIGHT, appRole: { name: 'cp_app', password: 'first-Password-1' } });
    expect(r.appRole).toBe('cp_app');
    expect(lastRestoreLine()).toMatchObject({ result: 'success', appRole: 'cp_app' });
    expect(await asAdmin('postgres', `SELECT rolcanlogin, rolsuper, rolcreatedb, rolcreaterole, rolreplication, rolbypassrls FROM pg_roles WHERE rolname = 'cp_app'`))
      .toEqual([{ rolcanlogin: true, rolsuper: false, rolcreatedb: false, rolcreaterole: false, rolreplication: false, rolbypassrls: false }]);
    await withLogin('crm', 'cp_app', 'first-Password-1', async (c) => {
      expect((await c.query('SELECT count(*)::int AS n FROM customers')).rows[0].n).toBe(200);
      const u = await c.query(`UPDATE customers SET email = 'moved@example.com' WHERE id = 7 RETURNING encode(email_sha256, 'hex') AS h`);
      expect(u.rowCount).toBe(1);
      expect((await c.query(`SELECT encode(digest('moved@example.com', 'sha256'), 'hex') AS h`)).rows[0].h).toBe(u.rows[0].h); // pgcrypto, restored
      expect((await c.query(`INSERT INTO accounts (id, name, tier, created_at) VALUES (999999, 'new', 'gold', now()) RETURNING length(api_token) AS n`)).rows[0].n).toBe(32);
      expect((await c.query('DELETE FROM accounts WHERE id = 999999')).rowCount).toBe(1);
    });
    // the recordings view in the control database: read-only
    await withLogin('standby', 'cp_app', 'first-Password-1', async (c) => {
      expect((await c.query('SELECT key FROM counterparty.objects')).rows).toEqual([{ key: 'calls/a.wav' }]);
      await expect(c.query('DELETE FROM counterparty.objects')).rejects.toThrow(/permission denied for table objects/);
      await expect(c.query('SELECT * FROM counterparty_control.restore_status')).rejects.toThrow(/permission denied for schema counterparty_control/);
    });
  });

  test('can run no DDL: no CREATE TABLE, no DROP, no ALTER, no CREATE SCHEMA, and owns nothing', async () => {
    await withLogin('crm', 'cp_app', 'first-Password-1', async (c) => {
      await expect(c.query('CREATE TABLE public.sneaky (x int)')).rejects.toThrow(/permission denied for schema public/);
      await expect(c.query('DROP TABLE customers')).rejects.toThrow(/must be owner of table customers/);
      await expect(c.query('ALTER TABLE customers ADD COLUMN y int')).rejects.toThrow(/must be owner of table customers/);
      await expect(c.query('TRUNCATE case_notes')).rejects.toThrow(/permission denied for table case_notes/);
      await expect(c.query('CREATE SCHEMA sneaky')).rejects.toThrow(/permission denied for database crm/);
    });
    expect(await asAdmin('crm', `SELECT relname FROM pg_class WHERE relowner = 'cp_app'::regrole UNION ALL SELECT nspname FROM pg_namespace WHERE nspowner = 'cp_app'::regrole`)).toEqual([]);
    expect(await asAdmin('postgres', `SELECT datname FROM pg_database WHERE datdba = 'cp_app'::regrole`)).toEqual([]);
  });

  test('a second restore keeps the one login, switches its password to the current secret, and the app keeps working', async () => {
    await restoreNight({ store, pg: standby, night: NIGHT, appRole: { name: 'cp_app', password: 'second-Password-2' } });
    expect(await asAdmin('postgres', `SELECT count(*)::int AS n FROM pg_roles WHERE rolname = 'cp_app'`)).toEqual([{ n: 1 }]);
    await expect(withLogin('crm', 'cp_app', 'first-Password-1', async () => undefined)).rejects.toThrow(/password authentication failed for user "cp_app"/);
    await withLogin('crm', 'cp_app', 'second-Password-2', async (c) => {
      expect((await c.query(`SELECT email FROM customers WHERE id = 7`)).rows[0].email).toBe('customer7@example.com'); // the freshly restored night
      expect((await c.query(`UPDATE cases SET status = 'open' WHERE id = 1`)).rowCount).toBe(1);
    });
  });

  test('the jobs CLI wires CP_APP_DB_USER and CP_APP_DB_PASSWORD into the restore', async () => {
    const env = { CP_STORE: `file://${store.root}`, CP_NIGHT: NIGHT, PGHOST: standby.host, PGPORT: String(standby.port), PGUSER: standby.user, PGDATABASE: 'standby', CP_APP_DB_USER: 'cp_app', CP_APP_DB_PASSWORD: 'third-Password-3' };
    expect(await runCommand('restore', env)).toBe(0);
    expect(await withLogin('crm', 'cp_app', 'third-Password-3', async (c) => (await c.query('SELECT count(*)::int AS n FROM cases')).rows[0].n)).toBe(250);
    expect(await runCommand('restore', { ...env, CP_APP_DB_PASSWORD: '' })).toBe(1); // a login without its password is a configuration error
  });
});

describe('GCP: the Cloud SQL IAM user (CP_PG_APP_ROLE)', () => {
  test('an existing password-less role gets DML on the restored databases', async () => {
    await asAdmin('postgres', `CREATE ROLE "${IAM_ROLE}" LOGIN`);
    const env = { CP_STORE: `file://${store.root}`, CP_NIGHT: NIGHT, PGHOST: standby.host, PGPORT: String(standby.port), PGUSER: standby.user, PGDATABASE: 'standby', CP_PG_APP_ROLE: IAM_ROLE };
    expect(await runCommand('restore', env)).toBe(0);
    expect(await asAdmin('crm', `SELECT has_database_privilege($1, 'crm', 'CONNECT') AS c, has_database_privilege($1, 'crm', 'CREATE') AS cr, has_schema_privilege($1, 'public', 'CREATE') AS sc`, [IAM_ROLE]))
      .toEqual([{ c: true, cr: false, sc: false }]);
    expect(await asRole('crm', IAM_ROLE, `UPDATE accounts SET tier = 'gold' WHERE id = 1 RETURNING id`)).toEqual([{ id: 1 }]);
    expect(await asRole('crm', IAM_ROLE, `SELECT nextval('case_number_seq')::int AS n`)).toEqual([{ n: 1001 }]);
    await expect(asRole('crm', IAM_ROLE, 'CREATE TABLE t (x int)')).rejects.toThrow(/permission denied for schema public/);
    await expect(asRole('crm', IAM_ROLE, 'DROP TABLE accounts CASCADE')).rejects.toThrow(/must be owner of table accounts/);
  });

  test('a missing role fails the restore before anything is switched, naming the role', async () => {
    const before = await restoreStatus(standby);
    await expect(restoreNight({ store, pg: standby, night: NIGHT, appRole: { name: 'nobody@acme-cc-dr.iam' } })).rejects.toMatchObject({ reason: 'restore-failed', message: expect.stringMatching(/application role nobody@acme-cc-dr.iam \(CP_PG_APP_ROLE\) does not exist/) });
    expect(lastRestoreLine()).toMatchObject({ result: 'failure', reason: 'restore-failed' });
    expect((await restoreStatus(standby))?.completedAt).toBe(before?.completedAt);
  });
});

describe('refusals and no configuration', () => {
  test('no application role configured: no grants, no failure', async () => {
    await asAdmin('postgres', 'CREATE ROLE bystander LOGIN');
    const r = await restoreNight({ store, pg: standby, night: NIGHT });
    expect(r.appRole).toBeUndefined();
    expect(lastRestoreLine()).toMatchObject({ result: 'success' });
    expect(lastRestoreLine()).not.toHaveProperty('appRole');
    // the freshly restored crm grants nobody anything (cp_app's grants were on the database it replaced)
    expect(await asAdmin('crm', `SELECT has_table_privilege('cp_app', 'customers', 'SELECT') AS app, has_table_privilege('bystander', 'customers', 'SELECT') AS other`)).toEqual([{ app: false, other: false }]);
  });

  test('a role that is the restore role, or could run DDL, is refused and nothing is granted', async () => {
    await expect(restoreNight({ store, pg: standby, night: NIGHT, appRole: { name: 'postgres', password: 'x-Password-1' } })).rejects.toThrow(/application role postgres is \(or inherits\) the restore role postgres/);
    await asAdmin('postgres', 'CREATE ROLE too_strong LOGIN CREATEDB');
    await expect(restoreNight({ store, pg: standby, night: NIGHT, appRole: { name: 'too_strong' } })).rejects.toThrow(/too_strong has CREATEDB; .*NOCREATEDB/);
    await asAdmin('postgres', 'CREATE ROLE member_of_restorer LOGIN IN ROLE postgres');
    await expect(restoreNight({ store, pg: standby, night: NIGHT, appRole: { name: 'member_of_restorer' } })).rejects.toThrow(/is \(or inherits\) the restore role/);
    expect(await asAdmin('crm', `SELECT has_table_privilege('too_strong', 'customers', 'SELECT') AS a`)).toEqual([{ a: false }]);
  });

  test('environment parsing and the SCRAM verifier', () => {
    expect(appRoleFromEnv({})).toBeUndefined();
    expect(appRoleFromEnv({ CP_PG_APP_ROLE: IAM_ROLE })).toEqual({ name: IAM_ROLE });
    expect(appRoleFromEnv({ CP_APP_DB_USER: 'cp_app', CP_APP_DB_PASSWORD: 'p' })).toEqual({ name: 'cp_app', password: 'p' });
    expect(() => appRoleFromEnv({ CP_APP_DB_USER: 'cp_app' })).toThrow(/CP_APP_DB_USER="cp_app" needs CP_APP_DB_PASSWORD/);
    expect(() => appRoleFromEnv({ CP_APP_DB_PASSWORD: 'p' })).toThrow(/without CP_APP_DB_USER/);
    expect(() => appRoleFromEnv({ CP_PG_APP_ROLE: 'a', CP_APP_DB_USER: 'b', CP_APP_DB_PASSWORD: 'p' })).toThrow(/both set/);
    // the layout PostgreSQL stores (its correctness is what the logins above prove)
    const v = scramSha256Verifier('pencil', Buffer.from('W22ZaJ0SNY7soEsUEjb6gQ==', 'base64'));
    expect(v).toMatch(/^SCRAM-SHA-256\$4096:W22ZaJ0SNY7soEsUEjb6gQ==\$[A-Za-z0-9+/=]{44}:[A-Za-z0-9+/=]{44}$/);
    expect(() => scramSha256Verifier('pässword')).toThrow(/printable ASCII/);
  });
});
