/**
 * The jobs CLI's commands (bin/counterparty-job.ts), configured by environment variables as
 * docs/ARCHITECTURE.md specifies. Each returns an exit code; errors are thrown as RuntimeError and
 * printed by the bin as one line.
 */
import { ConnectClient } from '@aws-sdk/client-connect';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { naming, DATASET_KINDS } from '../core';
import { copyMode, copyPhase, parseShard, runCopy } from './copy';
import { RuntimeError } from './errors';
import { federationSelfCheck, trustedFederationFromEnv } from './federation';
import { exportConnectConfiguration } from './exporters/connect';
import { exportDynamoDbTable } from './exporters/dynamodb';
import { exportPostgres } from './exporters/postgres';
import { logEvent, runJob, type ResultEvent } from './log';
import { buildManifest } from './manifest';
import { imagesCheckFromEnv, runMirrorCommand } from './mirror';
import { runPruneCommand } from './prune';
import { appRoleFromEnv, parseDynamoKeys, parsePgDatabases, restoreNight, type PgTarget, type RestoreOptions } from './restorer';
import { counterpartyStatus, formatStatus, freshnessConfigFromEnv, freshnessFields, nowFromEnv, readFreshness, type StatusOptions, type StatusReport } from './status';
import type { ObjectStore } from './stores/types';
import { openStore, parseStoreUrl, S3Store, s3ClientFromEnv } from './stores';
import { syncObjects } from './sync-objects';
import { verifyRun, type PlannedDataset, type VerifyOptions } from './verifier';

type Env = NodeJS.ProcessEnv;

export const COMMANDS = ['export-postgres', 'sync-objects', 'export-dynamodb', 'export-connect', 'build-manifest', 'copy', 'verify', 'restore', 'verify-and-restore', 'status', 'mirror', 'prune'] as const;
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
export function parseDatasets(text: string): { name: string; kind: string; allowEmpty?: boolean }[] {
  const out = text.split(',').map((s) => s.trim()).filter(Boolean).map((pair) => {
    const [name, kind, flag, extra] = pair.split(':');
    if (!name || !kind || !(DATASET_KINDS as readonly string[]).includes(kind) || (flag !== undefined && flag !== 'allowEmpty') || extra !== undefined) {
      throw new RuntimeError(`CP_DATASETS: ${JSON.stringify(pair)} is not name:kind[:allowEmpty] (kind one of ${DATASET_KINDS.join(', ')})`);
    }
    return flag ? { name, kind, allowEmpty: true } : { name, kind };
  });
  if (!out.length) throw new RuntimeError('CP_DATASETS is empty');
  return out;
}

/** The result event each command writes (docs/runtime.md, "Log lines and alert conditions"). */
export function resultEventOf(command: string): ResultEvent {
  const map: Record<string, ResultEvent> = {
    'export-postgres': 'counterparty.export', 'export-dynamodb': 'counterparty.export', 'export-connect': 'counterparty.export',
    'sync-objects': 'counterparty.sync', 'build-manifest': 'counterparty.manifest', copy: 'counterparty.copy', verify: 'counterparty.verify',
    restore: 'counterparty.restore', status: 'counterparty.status', mirror: 'counterparty.mirror', prune: 'counterparty.prune', reload: 'counterparty.reload',
  };
  return map[command] ?? 'counterparty.job';
}

function stores(env: Env): { store: ObjectStore; recordsStore?: ObjectStore } {
  return { store: openStore(required(env, 'CP_STORE'), env), recordsStore: env.CP_RECORDS_STORE ? openStore(env.CP_RECORDS_STORE, env) : undefined };
}

/** `CP_DATASETS` for verify/restore: the plan's datasets with allowEmpty (unset: not checked). */
function plannedDatasets(env: Env): PlannedDataset[] | undefined {
  return env.CP_DATASETS ? parseDatasets(env.CP_DATASETS) : undefined;
}

function verifyOptions(env: Env, signal?: AbortSignal): VerifyOptions {
  const n = night(env, 'all');
  const scrub = Number(env.CP_SCRUB_CYCLE_NIGHTS || 30);
  if (!Number.isInteger(scrub) || scrub < 1) throw new RuntimeError(`CP_SCRUB_CYCLE_NIGHTS must be a whole number >= 1, got ${JSON.stringify(env.CP_SCRUB_CYCLE_NIGHTS)}`);
  return { ...stores(env), night: n === 'latest' ? 'all' : n, datasets: plannedDatasets(env), freshness: freshnessConfigFromEnv(env), now: nowFromEnv(env), scrubCycleNights: scrub, signal };
}

function restoreOptions(env: Env, selector: string, signal?: AbortSignal): RestoreOptions {
  const now = env.CP_NOW ? (): Date => nowFromEnv(env) : undefined;
  return {
    ...stores(env), night: selector, pg: standbyTarget(env), dynamoKeys: parseDynamoKeys(env.CP_DYNAMODB_KEYS), pgDatabases: parsePgDatabases(env.CP_PG_DATABASES),
    datasets: plannedDatasets(env), force: env.CP_FORCE === '1' || env.CP_FORCE === 'true', freshness: freshnessConfigFromEnv(env), signal, now,
    appRole: appRoleFromEnv(env),
  };
}

/** Best-effort freshness fields for a failure line written by runJob (a crash before the job could compute them). */
async function freshnessOf(env: Env, vouches: 'verified' | 'restored'): Promise<Record<string, unknown>> {
  const { store, recordsStore } = stores(env);
  return freshnessFields(await readFreshness(store, recordsStore ?? store, freshnessConfigFromEnv(env), nowFromEnv(env)), vouches);
}

/** `status`: can this counterparty take over now? One `counterparty.status` line; exit 2 when not ready. */
export async function statusCommand(env: Env, opts: { imagesCheck?: StatusOptions['imagesCheck']; out?: (text: string) => void } = {}): Promise<StatusReport> {
  const { store, recordsStore } = stores(env);
  const report = await counterpartyStatus({
    store, recordsStore, primaryStore: env.CP_PRIMARY_STORE ? openStore(env.CP_PRIMARY_STORE, env) : undefined,
    config: freshnessConfigFromEnv(env), now: nowFromEnv(env), imagesCheck: opts.imagesCheck ?? imagesCheckFromEnv(env),
  });
  (opts.out ?? ((t: string) => process.stderr.write(`${t}\n`)))(formatStatus(report));
  const fields = { ...report, store: store.url };
  if (report.ready) logEvent('counterparty.status', { result: 'success', ...fields });
  else logEvent('counterparty.status', { result: 'failure', reason: 'not-ready', error: report.problems.join('; '), ...fields });
  return report;
}

/**
 * Runs one command so that it writes exactly one result line and exits non-zero unless that line
 * says success: any exception becomes a failure line with its reason (lib/runtime/log.ts runJob).
 */
export async function runCommand(command: string, env: Env = process.env, signal?: AbortSignal): Promise<number> {
  if (command === 'verify-and-restore') return dispatch(command, env, signal).catch((err) => runJob('counterparty.job', () => Promise.reject(err)));
  const vouches = command === 'verify' ? 'verified' : command === 'restore' || command === 'status' ? 'restored' : undefined;
  return runJob(resultEventOf(command), () => dispatch(command, env, signal), vouches ? () => freshnessOf(env, vouches) : undefined);
}

async function dispatch(command: string, env: Env, signal?: AbortSignal): Promise<number> {
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
      const n = nightForExport(env);
      const r = await syncObjects({ s3: s3ClientFromEnv(env), sourceBucket: required(env, 'CP_SOURCE_BUCKET'), sourcePrefix: env.CP_SOURCE_PREFIX || undefined, exportBucket: required(env, 'CP_EXPORT_BUCKET'), dataset, night: n, emulatorChecksumHeader: emulator(env), seedBucket: env.CP_SEED_BUCKET || undefined });
      logEvent('counterparty.sync', { result: 'success', night: n, dataset, examined: r.examined, copied: r.copied, skipped: r.skipped, bytes: r.bytesCopied, added: r.added, changed: r.changed, removed: r.removed, hashed: r.hashed, seeded: r.seeded, seedUnused: r.seedUnused, checkpoint: r.checkpoint });
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
        shard: parseShard(env.CP_SHARD),
        phase: copyPhase(env.CP_COPY_PHASE),
        mode: copyMode(env.CP_COPY_MODE),
      });
      return r.result === 'success' ? 0 : 2;
    }
    case 'verify': {
      const r = await verifyRun(verifyOptions(env, signal));
      return r.result === 'success' ? 0 : 2;
    }
    case 'restore': {
      await restoreNight(restoreOptions(env, night(env, 'latest-verified'), signal));
      return 0;
    }
    case 'verify-and-restore': {
      // two jobs, two result lines: the verify run, then the restore of the newest verified night
      const v = await runJob('counterparty.verify', async () => ((await verifyRun(verifyOptions(env, signal))).result === 'success' ? 0 : 2), () => freshnessOf(env, 'verified'));
      const r = await runJob('counterparty.restore', async () => { await restoreNight(restoreOptions(env, 'latest-verified', signal)); return 0; }, () => freshnessOf(env, 'restored'));
      return Math.max(v, r);
    }
    case 'status': {
      const r = await statusCommand(env);
      return r.ready ? 0 : 2;
    }
    case 'mirror':
      return runMirrorCommand(env);
    case 'prune':
      return runPruneCommand(env, openStore);
    default:
      throw new RuntimeError(`unknown command ${JSON.stringify(command)}; commands: ${COMMANDS.join(', ')}`);
  }
}

export const USAGE = `usage: counterparty-job <command>   (configured by environment variables; see docs/runtime.md)
commands:
  export-postgres     CP_EXPORT_BUCKET CP_NIGHT CP_DATASET PGHOST PGPORT PGDATABASE (CP_PG_SECRET_ARN | PGUSER PGPASSWORD)
  sync-objects        CP_EXPORT_BUCKET CP_NIGHT CP_DATASET CP_SOURCE_BUCKET [CP_SOURCE_PREFIX]
  export-dynamodb     CP_EXPORT_BUCKET CP_NIGHT CP_DATASET CP_TABLE_NAME
  export-connect      CP_EXPORT_BUCKET CP_NIGHT CP_DATASET CP_CONNECT_INSTANCE_ID
  build-manifest      CP_EXPORT_BUCKET CP_NIGHT CP_DATASETS=name:kind,... [CP_SYSTEM]
  copy                CP_SOURCE_BUCKET AWS_REGION AWS_ROLE_ARN CP_AZURE_TOKEN_AUDIENCE AZURE_CLIENT_ID CP_STORE [CP_SHARD=i/n] [CP_COPY_PHASE=all|data|manifests] [CP_COPY_MODE=auto|full|incremental] [CP_COPY_AUTH=env ...]
  verify              CP_STORE [CP_NIGHT=all|YYYY-MM-DD] [CP_RECORDS_STORE] [CP_DATASETS=name:kind[:allowEmpty],...] [CP_RPO_HOURS=24] [CP_ALARM_GRACE_HOURS=6]
  restore [--force]   CP_STORE [CP_NIGHT=latest-verified] PGHOST PGPORT PGDATABASE PGUSER PGPASSWORD [CP_DYNAMODB_KEYS] [CP_PG_DATABASES] [CP_DATASETS] [CP_FORCE=1]
                      [CP_PG_APP_ROLE | CP_APP_DB_USER CP_APP_DB_PASSWORD]
  verify-and-restore  the union of verify and restore (two result lines)
  status              CP_STORE [CP_RECORDS_STORE] [CP_PRIMARY_STORE] [CP_RPO_HOURS] [CP_ALARM_GRACE_HOURS] [CP_IMAGES CP_MIRROR_DESTINATION]: can this counterparty take over now? exit 2 when not
  mirror              CP_MIRROR_SOURCE CP_MIRROR_DESTINATION CP_IMAGES [CP_KEEP_RELEASES=5] [CP_MIRROR_AUTH=gcp|azure|authfile|none] [CP_MIRROR_CHECK_ONLY=1]
  prune               CP_STORE [CP_PRUNE_DRY_RUN=true] [CP_PRUNE_GRACE_DAYS=7]   delete blobs no night present references, once unlocked
exit codes: 0 ok (the result line says success), 1 error, 2 a check failed; every run writes ONE JSON result line on stdout (docs/runtime.md)`;
