/**
 * The jobs CLI's commands (bin/counterparty-job.ts), configured by environment variables as
 * docs/ARCHITECTURE.md specifies. Each returns an exit code; errors are thrown as RuntimeError and
 * printed by the bin as one line.
 */
import { ConnectClient } from '@aws-sdk/client-connect';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { naming, DATASET_KINDS } from '../core';
import { runCopy } from './copy';
import { RuntimeError } from './errors';
import { federationSelfCheck, trustedFederationFromEnv } from './federation';
import { exportConnectConfiguration } from './exporters/connect';
import { exportDynamoDbTable } from './exporters/dynamodb';
import { exportPostgres } from './exporters/postgres';
import { logEvent, progress } from './log';
import { buildManifest } from './manifest';
import { runMirrorCommand } from './mirror';
import { parseDynamoKeys, parsePgDatabases, restoreNight, type PgTarget } from './restorer';
import { openStore, parseStoreUrl, S3Store, s3ClientFromEnv } from './stores';
import { syncObjects } from './sync-objects';
import { verifyNight } from './verifier';

type Env = NodeJS.ProcessEnv;

export const COMMANDS = ['export-postgres', 'sync-objects', 'export-dynamodb', 'export-connect', 'build-manifest', 'copy', 'verify', 'restore', 'verify-and-restore', 'mirror'] as const;
export type Command = (typeof COMMANDS)[number];

export function required(env: Env, name: string): string {
  const v = env[name];
  if (!v) throw new RuntimeError(`${name} is not set`);
  return v;
}

function night(env: Env, fallback: string): string {
  const n = env.CP_NIGHT || fallback;
  if (n === 'today') return naming.nightId(new Date());
  return n;
}

function nightForExport(env: Env): string {
  const n = night(env, naming.nightId(new Date()));
  if (!naming.isNightId(n)) throw new RuntimeError(`CP_NIGHT must be YYYY-MM-DD, got ${JSON.stringify(n)}`);
  return n;
}

function port(env: Env): number {
  const p = Number(env.PGPORT || 5432);
  if (!Number.isInteger(p) || p <= 0 || p > 65535) throw new RuntimeError(`PGPORT is not a port: ${JSON.stringify(env.PGPORT)}`);
  return p;
}

function emulator(env: Env): boolean {
  return Boolean(env.AWS_ENDPOINT_URL_S3 || env.AWS_ENDPOINT_URL);
}

async function pgCredentials(env: Env): Promise<{ user: string; password?: string }> {
  if (env.CP_PG_SECRET_ARN) {
    const sm = new SecretsManagerClient({ region: env.AWS_REGION });
    const s = await sm.send(new GetSecretValueCommand({ SecretId: env.CP_PG_SECRET_ARN }));
    let parsed: { username?: string; password?: string };
    try {
      parsed = JSON.parse(s.SecretString ?? '');
    } catch {
      throw new RuntimeError(`secret ${env.CP_PG_SECRET_ARN} is not JSON {username, password}`);
    }
    if (!parsed.username) throw new RuntimeError(`secret ${env.CP_PG_SECRET_ARN} has no username`);
    return { user: parsed.username, password: parsed.password };
  }
  return { user: required(env, 'PGUSER'), password: env.PGPASSWORD || undefined };
}

function standbyTarget(env: Env): PgTarget {
  return { host: required(env, 'PGHOST'), port: port(env), database: required(env, 'PGDATABASE'), user: required(env, 'PGUSER'), password: env.PGPASSWORD || undefined };
}

/** `CP_DATASETS` = `name:kind,name:kind` (build-manifest). */
export function parseDatasets(text: string): { name: string; kind: string }[] {
  const out = text.split(',').map((s) => s.trim()).filter(Boolean).map((pair) => {
    const [name, kind] = pair.split(':');
    if (!name || !kind || !(DATASET_KINDS as readonly string[]).includes(kind)) throw new RuntimeError(`CP_DATASETS: ${JSON.stringify(pair)} is not name:kind (kind one of ${DATASET_KINDS.join(', ')})`);
    return { name, kind };
  });
  if (!out.length) throw new RuntimeError('CP_DATASETS is empty');
  return out;
}

export async function runCommand(command: string, env: Env = process.env): Promise<number> {
  switch (command as Command) {
    case 'export-postgres': {
      const bucket = required(env, 'CP_EXPORT_BUCKET');
      const n = nightForExport(env);
      const dataset = required(env, 'CP_DATASET');
      const creds = await pgCredentials(env);
      const store = new S3Store(bucket, s3ClientFromEnv(env));
      const r = await exportPostgres({ store, key: naming.postgresDumpKey(n, dataset), connection: { host: required(env, 'PGHOST'), port: port(env), database: required(env, 'PGDATABASE'), ...creds } });
      logEvent('counterparty.export', { result: 'success', kind: 'postgres', night: n, dataset, key: r.key, bytes: r.bytes, sha256: r.sha256, seconds: r.seconds });
      return 0;
    }
    case 'sync-objects': {
      const dataset = required(env, 'CP_DATASET');
      const r = await syncObjects({ s3: s3ClientFromEnv(env), sourceBucket: required(env, 'CP_SOURCE_BUCKET'), sourcePrefix: env.CP_SOURCE_PREFIX || undefined, exportBucket: required(env, 'CP_EXPORT_BUCKET'), dataset, emulatorChecksumHeader: emulator(env) });
      logEvent('counterparty.sync', { result: 'success', dataset, examined: r.examined, copied: r.copied, skipped: r.skipped, bytes: r.bytesCopied });
      return 0;
    }
    case 'export-dynamodb': {
      const bucket = required(env, 'CP_EXPORT_BUCKET');
      const n = nightForExport(env);
      const dataset = required(env, 'CP_DATASET');
      const endpoint = env.AWS_ENDPOINT_URL_DYNAMODB || env.AWS_ENDPOINT_URL || undefined;
      const r = await exportDynamoDbTable({ client: new DynamoDBClient({ region: env.AWS_REGION, endpoint }), tableName: required(env, 'CP_TABLE_NAME'), bucket, prefix: naming.datasetNightPrefix(n, dataset), store: new S3Store(bucket, s3ClientFromEnv(env)), pollMs: Number(env.CP_POLL_MS || 5000) });
      logEvent('counterparty.export', { result: 'success', kind: 'dynamoDbTable', night: n, dataset, exportArn: r.exportArn, items: r.itemCount });
      return 0;
    }
    case 'export-connect': {
      const bucket = required(env, 'CP_EXPORT_BUCKET');
      const n = nightForExport(env);
      const dataset = required(env, 'CP_DATASET');
      const r = await exportConnectConfiguration({ client: new ConnectClient({ region: env.AWS_REGION }), instanceId: required(env, 'CP_CONNECT_INSTANCE_ID'), store: new S3Store(bucket, s3ClientFromEnv(env)), prefix: naming.datasetNightPrefix(n, dataset) });
      logEvent('counterparty.export', { result: 'success', kind: 'connectInstance', night: n, dataset, objects: r.objects, bytes: r.bytes, resources: r.resources, throttled: r.throttled });
      return 0;
    }
    case 'build-manifest': {
      const bucket = required(env, 'CP_EXPORT_BUCKET');
      const n = nightForExport(env);
      const r = await buildManifest({ store: new S3Store(bucket, s3ClientFromEnv(env)), night: n, datasets: parseDatasets(required(env, 'CP_DATASETS')), system: env.CP_SYSTEM || undefined, bucket });
      logEvent('counterparty.manifest', { result: 'success', night: n, key: r.key, sha256: r.sha256, objects: r.manifest.totals.objects, bytes: r.manifest.totals.bytes, previous: r.manifest.previous });
      return 0;
    }
    case 'copy': {
      const dest = parseStoreUrl(required(env, 'CP_STORE'));
      if (dest.kind !== 'azblob') throw new RuntimeError(`copy writes to an azblob:// store; CP_STORE is ${env.CP_STORE}`);
      const auth = (env.CP_COPY_AUTH || 'managed-identity') as 'managed-identity' | 'env';
      if (auth !== 'managed-identity' && auth !== 'env') throw new RuntimeError(`CP_COPY_AUTH must be managed-identity or env, got ${JSON.stringify(auth)}`);
      // Keyless: the token must be the one the AWS role trusts (iss/aud/sub), checked before any copy (lib/runtime/federation.ts).
      if (auth === 'managed-identity' && !(await federationSelfCheck({ event: 'counterparty.copy', audience: required(env, 'CP_AZURE_TOKEN_AUDIENCE'), trusted: trustedFederationFromEnv(env), clientId: env.AZURE_CLIENT_ID || undefined })).ok) return 2;
      const r = await runCopy({
        source: { bucket: required(env, 'CP_SOURCE_BUCKET'), region: required(env, 'AWS_REGION'), endpoint: env.AWS_ENDPOINT_URL_S3 || env.AWS_ENDPOINT_URL || undefined },
        destination: { account: dest.account, container: dest.container, endpoint: env.CP_AZURE_BLOB_ENDPOINT || undefined, sasUrl: env.CP_AZURE_BLOB_SAS_URL || undefined, accountKey: env.CP_AZURE_BLOB_KEY || undefined },
        auth,
        tokenAudience: auth === 'managed-identity' ? required(env, 'CP_AZURE_TOKEN_AUDIENCE') : undefined,
        clientId: env.AZURE_CLIENT_ID || undefined,
        roleArn: auth === 'managed-identity' ? required(env, 'AWS_ROLE_ARN') : undefined,
        env,
      });
      return r.result === 'success' ? 0 : 2;
    }
    case 'verify': {
      const store = openStore(required(env, 'CP_STORE'), env);
      const recordsStore = env.CP_RECORDS_STORE ? openStore(env.CP_RECORDS_STORE, env) : undefined;
      const r = await verifyNight({ store, recordsStore, night: night(env, 'latest') });
      if (r.recordError) progress(`verify: ${r.recordError}`);
      return r.result === 'success' && !r.recordError ? 0 : 2;
    }
    case 'restore': {
      const store = openStore(required(env, 'CP_STORE'), env);
      const recordsStore = env.CP_RECORDS_STORE ? openStore(env.CP_RECORDS_STORE, env) : undefined;
      await restoreNight({ store, recordsStore, night: night(env, 'latest-verified'), pg: standbyTarget(env), dynamoKeys: parseDynamoKeys(env.CP_DYNAMODB_KEYS), pgDatabases: parsePgDatabases(env.CP_PG_DATABASES) });
      return 0;
    }
    case 'verify-and-restore': {
      const store = openStore(required(env, 'CP_STORE'), env);
      const recordsStore = env.CP_RECORDS_STORE ? openStore(env.CP_RECORDS_STORE, env) : undefined;
      const pg = standbyTarget(env);
      const v = await verifyNight({ store, recordsStore, night: night(env, 'latest') });
      // Restore the newest verified night: this one when it verified, else the last good one.
      await restoreNight({ store, recordsStore, night: 'latest-verified', pg, dynamoKeys: parseDynamoKeys(env.CP_DYNAMODB_KEYS), pgDatabases: parsePgDatabases(env.CP_PG_DATABASES) });
      return v.result === 'success' && !v.recordError ? 0 : 2;
    }
    case 'mirror':
      return runMirrorCommand(env);
    default:
      throw new RuntimeError(`unknown command ${JSON.stringify(command)}; commands: ${COMMANDS.join(', ')}`);
  }
}

export const USAGE = `usage: counterparty-job <command>   (configured by environment variables; see docs/runtime.md)
commands:
  export-postgres     CP_EXPORT_BUCKET CP_NIGHT CP_DATASET PGHOST PGPORT PGDATABASE (CP_PG_SECRET_ARN | PGUSER PGPASSWORD)
  sync-objects        CP_EXPORT_BUCKET CP_DATASET CP_SOURCE_BUCKET [CP_SOURCE_PREFIX]
  export-dynamodb     CP_EXPORT_BUCKET CP_NIGHT CP_DATASET CP_TABLE_NAME
  export-connect      CP_EXPORT_BUCKET CP_NIGHT CP_DATASET CP_CONNECT_INSTANCE_ID
  build-manifest      CP_EXPORT_BUCKET CP_NIGHT CP_DATASETS=name:kind,... [CP_SYSTEM]
  copy                CP_SOURCE_BUCKET AWS_REGION AWS_ROLE_ARN CP_AZURE_TOKEN_AUDIENCE AZURE_CLIENT_ID CP_STORE [CP_COPY_AUTH=env ...]
  verify              CP_STORE [CP_NIGHT=latest] [CP_RECORDS_STORE]
  restore             CP_STORE [CP_NIGHT=latest-verified] PGHOST PGPORT PGDATABASE PGUSER PGPASSWORD [CP_DYNAMODB_KEYS] [CP_PG_DATABASES]
  verify-and-restore  the union of verify and restore
  mirror              CP_MIRROR_SOURCE CP_MIRROR_DESTINATION CP_IMAGES [CP_KEEP_RELEASES=5] [CP_MIRROR_AUTH=gcp|authfile|none] [CP_MIRROR_CHECK_ONLY=1]
exit codes: 0 ok, 1 error (one line on stderr), 2 verification or copy failed (see the JSON log line)`;
