/**
 * Where a reload puts each dataset back: a target file (JSON) naming, per dataset of the night,
 * the S3 bucket, DynamoDB table, PostgreSQL endpoint or Connect instance to load into. Read and
 * checked at the job's start: every problem names the field, the value and the fix.
 *
 * ```json
 * {
 *   "region": "eu-central-1",
 *   "stagingBucket": "acme-cc-reload-staging",
 *   "datasets": {
 *     "recordings":      { "bucket": "acme-cc-call-recordings-111122223333" },
 *     "contact-records": { "tableName": "acme-cc-contact-records" },
 *     "crm":             { "host": "crm.cluster-xyz.eu-central-1.rds.amazonaws.com", "database": "crm", "user": "reload", "passwordEnv": "RELOAD_CRM_PASSWORD" },
 *     "connect":         { "instanceId": "9f2c1a3e-5b7d-4c1e-8a2b-0d3f4e5a6b7c" }
 *   }
 * }
 * ```
 */
import { readFileSync } from 'node:fs';
import { RuntimeError } from '../errors';

export interface S3Target { readonly kind: 's3Bucket'; readonly bucket: string; /** @default '' */ readonly prefix: string }
export interface DynamoTarget { readonly kind: 'dynamoDbTable'; readonly tableName: string }
export interface PostgresTarget {
  readonly kind: 'postgres';
  readonly host: string;
  /** @default 5432 */
  readonly port: number;
  readonly database: string;
  readonly user: string;
  /** Read from the environment variable `passwordEnv` names (never from the file). */
  readonly password?: string;
  /** `pg_restore -j`. @default 4 */
  readonly jobs: number;
}
export interface ConnectTarget { readonly kind: 'connectInstance'; readonly instanceId: string }
export type DatasetTarget = S3Target | DynamoTarget | PostgresTarget | ConnectTarget;

export interface ReloadTarget {
  readonly region: string;
  /** An S3 bucket in the target account where DynamoDB exports are staged for `ImportTable`. */
  readonly stagingBucket?: string;
  readonly datasets: Readonly<Record<string, DatasetTarget>>;
}

function bad(field: string, value: unknown, problem: string, fix: string): RuntimeError {
  return new RuntimeError(`reload target: ${field} = ${JSON.stringify(value)}: ${problem} Fix: ${fix}`);
}

function str(o: Record<string, unknown>, field: string, path: string, fix: string): string {
  const v = o[field];
  if (typeof v !== 'string' || v === '') throw bad(`${path}.${field}`, v, 'is required and must be a non-empty string.', fix);
  return v;
}

function parseDatasetTarget(name: string, raw: unknown, env: NodeJS.ProcessEnv): DatasetTarget {
  const path = `datasets.${name}`;
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw bad(path, raw, 'must be an object.', 'give { bucket } | { tableName } | { host, database, user, passwordEnv } | { instanceId }.');
  const o = raw as Record<string, unknown>;
  if ('bucket' in o) {
    if (o.prefix !== undefined && typeof o.prefix !== 'string') throw bad(`${path}.prefix`, o.prefix, 'must be a string.', 'give a key prefix or leave it out.');
    return { kind: 's3Bucket', bucket: str(o, 'bucket', path, 'give the target bucket name.'), prefix: (o.prefix as string | undefined) ?? '' };
  }
  if ('tableName' in o) return { kind: 'dynamoDbTable', tableName: str(o, 'tableName', path, 'give the name of the table to create.') };
  if ('instanceId' in o) return { kind: 'connectInstance', instanceId: str(o, 'instanceId', path, 'give the target Connect instance ID.') };
  if ('host' in o) {
    const port = o.port === undefined ? 5432 : o.port;
    if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65535) throw bad(`${path}.port`, o.port, 'is not a TCP port.', 'give e.g. 5432.');
    const jobs = o.jobs === undefined ? 4 : o.jobs;
    if (typeof jobs !== 'number' || !Number.isInteger(jobs) || jobs < 1 || jobs > 64) throw bad(`${path}.jobs`, o.jobs, 'must be a whole number from 1 to 64.', 'give the pg_restore parallelism, e.g. 4.');
    let password: string | undefined;
    if (o.passwordEnv !== undefined) {
      const varName = str(o, 'passwordEnv', path, 'name the environment variable that holds the password.');
      password = env[varName];
      if (password === undefined) throw bad(`${path}.passwordEnv`, varName, 'names an environment variable that is not set.', `export ${varName}=<password> before running reload.`);
    }
    return { kind: 'postgres', host: str(o, 'host', path, 'give the target endpoint.'), port, database: str(o, 'database', path, 'give the database name to create.'), user: str(o, 'user', path, 'give a user that may create databases.'), password, jobs };
  }
  throw bad(path, raw, 'names no target kind.', 'give { bucket } (recordings), { tableName } (DynamoDB), { host, database, user } (PostgreSQL) or { instanceId } (Connect).');
}

/** Parses a target file's JSON text; `env` supplies the passwords `passwordEnv` names. */
export function parseReloadTarget(text: string, env: NodeJS.ProcessEnv = process.env): ReloadTarget {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new RuntimeError(`reload target: not JSON (${(err as Error).message}). Fix: give a JSON file like docs/runtime.md "Fail back / rebuild the primary" shows.`);
  }
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw bad('(file)', raw, 'must be a JSON object.', 'give { region, stagingBucket, datasets: {...} }.');
  const o = raw as Record<string, unknown>;
  const region = str(o, 'region', '(file)', 'give the target AWS region, e.g. "eu-central-1".');
  if (o.stagingBucket !== undefined && (typeof o.stagingBucket !== 'string' || o.stagingBucket === '')) throw bad('stagingBucket', o.stagingBucket, 'must be a bucket name.', 'give an empty S3 bucket in the target account, or leave it out when no DynamoDB table is reloaded.');
  if (!o.datasets || typeof o.datasets !== 'object' || Array.isArray(o.datasets)) throw bad('datasets', o.datasets, 'must be an object keyed by dataset name.', 'give datasets: { "<dataset>": { ... } }.');
  const datasets: Record<string, DatasetTarget> = {};
  for (const [name, t] of Object.entries(o.datasets as Record<string, unknown>)) datasets[name] = parseDatasetTarget(name, t, env);
  if (Object.values(datasets).some((d) => d.kind === 'dynamoDbTable') && !o.stagingBucket) {
    throw bad('stagingBucket', undefined, 'is required when a DynamoDB table is reloaded: ImportTable reads its input from S3 in the target account.', 'give an S3 bucket in the target account (it gets the night\'s DynamoDB export under reload/<night>/).');
  }
  return { region, stagingBucket: o.stagingBucket as string | undefined, datasets };
}

export function readReloadTarget(path: string, env: NodeJS.ProcessEnv = process.env): ReloadTarget {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new RuntimeError(`reload target: cannot read ${path} (${(err as Error).message}). Fix: pass --to <target.json>.`);
  }
  return parseReloadTarget(text, env);
}

/** Every dataset of the night must have a target, and the kinds must match. */
export function checkTargetCoversNight(target: ReloadTarget, datasets: readonly { name: string; kind: string }[]): void {
  const problems: string[] = [];
  for (const d of datasets) {
    const t = target.datasets[d.name];
    if (!t) problems.push(`datasets.${d.name} is missing (the night has ${d.kind} dataset ${d.name})`);
    else if (t.kind !== d.kind) problems.push(`datasets.${d.name} is a ${t.kind} target, but the dataset is ${d.kind}`);
  }
  for (const name of Object.keys(target.datasets)) if (!datasets.some((d) => d.name === name)) problems.push(`datasets.${name} names no dataset of the night (${datasets.map((d) => d.name).join(', ')})`);
  if (problems.length) throw new RuntimeError(`reload target does not match the night: ${problems.join('; ')}. Fix: give exactly one target per dataset of the night.`);
}
