/**
 * The `pg_dump -Fc` runner: streams pg_dump's stdout into the export bucket (multipart Upload via
 * the store; never buffered whole), hashing it on the way. The object is only complete when
 * pg_dump exits 0: on failure the upload is aborted.
 */
import { spawn } from 'node:child_process';
import { RuntimeError } from '../errors';
import type { ObjectStore } from '../stores/types';
import { HashingPassThrough } from '../util';

export interface PgConnection {
  readonly host: string;
  readonly port: number;
  readonly database: string;
  readonly user: string;
  readonly password?: string;
}

export interface PostgresExportOptions {
  readonly store: ObjectStore;
  /** `naming.postgresDumpKey(night, dataset)`. */
  readonly key: string;
  readonly connection: PgConnection;
  /** @default 'pg_dump' */
  readonly pgDump?: string;
  /** Extra pg_dump arguments. @default [] */
  readonly extraArgs?: readonly string[];
}

export interface PostgresExportResult {
  readonly key: string;
  readonly bytes: number;
  readonly sha256: string;
  readonly seconds: number;
}

export async function exportPostgres(opts: PostgresExportOptions): Promise<PostgresExportResult> {
  const t0 = Date.now();
  const c = opts.connection;
  const args = ['-Fc', '--no-password', '-h', c.host, '-p', String(c.port), '-U', c.user, '-d', c.database, ...(opts.extraArgs ?? [])];
  const child = spawn(opts.pgDump ?? 'pg_dump', args, {
    env: { ...process.env, ...(c.password ? { PGPASSWORD: c.password } : {}) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => { stderr = (stderr + d.toString()).slice(-4000); });
  const hashing = new HashingPassThrough();
  child.stdout.pipe(hashing, { end: false });
  const exited = new Promise<void>((resolve, reject) => {
    child.on('error', (e) => reject(new RuntimeError(`pg_dump could not start: ${e.message}`)));
    child.on('close', (code) => {
      if (code === 0) resolve();
      else reject(new RuntimeError(`pg_dump exited ${code}: ${stderr.trim().split('\n').slice(-2).join(' | ')}`));
    });
  });
  exited.then(() => hashing.end(), (err: Error) => hashing.destroy(err));
  const uploaded = opts.store.put(opts.key, hashing, { contentType: 'application/octet-stream' });
  await Promise.all([exited, uploaded]);
  return { key: opts.key, bytes: hashing.size, sha256: hashing.sha256, seconds: (Date.now() - t0) / 1000 };
}
