/**
 * `reload`: puts a night from a counterparty copy (or an exit bundle) back into AWS — the fail-back
 * after a takeover, or the rebuild of a lost primary. Checks the night first, refuses a non-empty
 * target unless forced, loads every dataset (recordings → S3, DynamoDB → ImportTable, PostgreSQL →
 * pg_restore -j, Connect → the configuration applied in dependency order), proves the result against
 * the night, and writes a report whose total is the measured fail-back RTO. Resumable: a journal in
 * `stateDir` lets a re-run after a crash continue without duplicating or overwriting.
 */
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { S3Client } from '@aws-sdk/client-s3';
import { naming } from '../../core';
import { RuntimeError, oneLine } from '../errors';
import type { ManifestDataset, NightReader } from '../format';
import { JobFailure, logEvent, progress } from '../log';
import type { ObjectStore } from '../stores/types';
import { proveDynamoTable, reloadDynamoTable, tableExists, type NightObject, type TableSchema } from './dynamodb';
import { ReloadJournal } from './journal';
import { postgresTargetHasData, reloadPostgres } from './postgres';
import { prefixHasObjects, proveRecordings, reloadRecordings } from './recordings';
import { renderReloadReport, type DatasetOutcome, type ReloadReport } from './report';
import { checkTargetCoversNight, type DatasetTarget, type ReloadTarget } from './target';
import { selectNight, verifyNightForReload } from './verify-night';

/** Applies a night's Connect configuration to a target instance (lib/runtime/connect-apply.ts). */
export type ConnectApplier = (args: {
  readonly source: ObjectStore; readonly night: string; readonly dataset: string; readonly objects: readonly NightObject[];
  readonly instanceId: string; readonly dryRun: boolean;
}) => Promise<{ readonly documents: number; readonly created: number; readonly existing: number; readonly cannotMove: readonly string[]; readonly problems: readonly string[] }>;

export interface ReloadOptions {
  readonly source: ObjectStore;
  /** Where the counterparty's verification records are. @default the source */
  readonly recordsStore?: ObjectStore;
  /** `YYYY-MM-DD`, `latest-verified` or `latest`. */
  readonly night: string;
  readonly target: ReloadTarget;
  /** The target file's text (keys the journal). */
  readonly targetText: string;
  readonly s3: S3Client;
  readonly dynamo: DynamoDBClient;
  readonly applyConnect?: ConnectApplier;
  readonly stateDir: string;
  /** Where reload-report.md and .json go. */
  readonly outDir: string;
  /** Load into targets that already hold data (logged). @default false */
  readonly force?: boolean;
  /** Print what would be loaded where; change nothing. @default false */
  readonly dryRun?: boolean;
  /** @default 'auto' */
  readonly dynamoMode?: 'import' | 'batch' | 'auto';
  readonly concurrency?: number;
  /** Test hook: called after each recording is in place. */
  readonly afterObject?: (key: string) => void;
  readonly now?: () => Date;
}

function nightObjects(reader: NightReader, d: ManifestDataset): NightObject[] {
  return reader.manifest.entries.filter((e) => e.dataset === d.name).map((e) => ({ key: e.key, size: e.size, sha256: e.sha256 }));
}

function entryOf(reader: NightReader, key: string): NightObject {
  const e = reader.manifest.entries.find((x) => x.key === key);
  if (!e) throw new RuntimeError(`reload: night ${reader.night} lists no ${key}`);
  return e;
}

/** What already holds data among the targets this reload did not create (the refusal's reasons). */
async function occupiedTargets(opts: ReloadOptions, journal: ReloadJournal): Promise<string[]> {
  const occupied: string[] = [];
  for (const [name, t] of Object.entries(opts.target.datasets)) {
    if (t.kind === 's3Bucket' && !journal.owns(`s3:${t.bucket}/${t.prefix}`) && await prefixHasObjects(opts.s3, t.bucket, t.prefix)) occupied.push(`${name}: s3://${t.bucket}/${t.prefix} holds objects`);
    if (t.kind === 'dynamoDbTable' && !journal.owns(`dynamodb:${t.tableName}`) && await tableExists(opts.dynamo, t.tableName)) occupied.push(`${name}: DynamoDB table ${t.tableName} exists`);
    if (t.kind === 'postgres' && !journal.owns(`postgres:${t.host}:${t.port}/${t.database}`) && await postgresTargetHasData(t)) occupied.push(`${name}: database ${t.database} on ${t.host}:${t.port} has tables`);
  }
  return occupied;
}

async function tableSchema(opts: ReloadOptions, reader: NightReader, dataset: string): Promise<TableSchema> {
  const key = naming.dynamoDbTableSchemaKey(reader.night, dataset);
  const entry = entryOf(reader, key);
  const raw = JSON.parse((await opts.source.getBytes(entry.key)).toString('utf8')) as TableSchema;
  if (!raw.KeySchema?.length) throw new RuntimeError(`reload: ${key} has no KeySchema`);
  return raw;
}

async function loadDataset(opts: ReloadOptions, reader: NightReader, journal: ReloadJournal, d: ManifestDataset, t: DatasetTarget): Promise<DatasetOutcome> {
  const t0 = Date.now();
  const objects = nightObjects(reader, d);
  const base = { name: d.name, kind: d.kind, target: describeTarget(t) };
  switch (t.kind) {
    case 's3Bucket': {
      journal.markOwned(`s3:${t.bucket}/${t.prefix}`);
      const r = await reloadRecordings({ source: opts.source, entries: reader.entries(d.name), s3: opts.s3, bucket: t.bucket, prefix: t.prefix, total: { objects: d.objects, bytes: d.bytes }, concurrency: opts.concurrency, afterObject: opts.afterObject });
      const proof = await proveRecordings(opts.s3, t.bucket, t.prefix, reader.entries(d.name));
      return { ...base, loaded: { objects: r.objects, uploaded: r.uploaded, skipped: r.skipped, bytes: r.bytes }, expected: { objects: d.objects }, proved: { objects: proof.objects }, problems: proof.problems, seconds: (Date.now() - t0) / 1000 };
    }
    case 'dynamoDbTable': {
      const r = await reloadDynamoTable({ source: opts.source, night: reader.night, dataset: d.name, objects, schema: await tableSchema(opts, reader, d.name), tableName: t.tableName, dynamo: opts.dynamo, s3: opts.s3, stagingBucket: opts.target.stagingBucket!, journal, mode: opts.dynamoMode });
      const proof = await proveDynamoTable(opts.source, objects, opts.dynamo, t.tableName);
      const want = d.summary.items;
      const problems = [...proof.problems];
      if (want !== undefined && proof.items !== want) problems.push(`${t.tableName}: ${proof.items} items, the export summary says ${want}`);
      return { ...base, loaded: { items: r.items, method: r.method }, expected: { items: want ?? null }, proved: { items: proof.items, digest: proof.digest }, problems, seconds: (Date.now() - t0) / 1000 };
    }
    case 'postgres': {
      const r = await reloadPostgres({ source: opts.source, dataset: d.name, dump: entryOf(reader, naming.postgresDumpKey(reader.night, d.name)), target: t, journal, force: opts.force });
      return { ...base, loaded: { bytes: r.bytes, database: r.database }, expected: {}, proved: { tables: r.tables }, problems: r.problems, seconds: (Date.now() - t0) / 1000 };
    }
    case 'connectInstance': {
      if (!opts.applyConnect) throw new RuntimeError(`reload: dataset ${d.name} is a Connect configuration and no Connect client is configured`);
      const r = await opts.applyConnect({ source: opts.source, night: reader.night, dataset: d.name, objects, instanceId: t.instanceId, dryRun: false });
      return { ...base, loaded: { created: r.created, existing: r.existing }, expected: { documents: d.summary.documents ?? null }, proved: { documents: r.documents }, problems: [...r.problems], cannotMove: [...r.cannotMove], seconds: (Date.now() - t0) / 1000 };
    }
  }
}

function describeTarget(t: DatasetTarget): string {
  switch (t.kind) {
    case 's3Bucket': return `s3://${t.bucket}/${t.prefix}`;
    case 'dynamoDbTable': return `DynamoDB table ${t.tableName}`;
    case 'postgres': return `postgresql://${t.host}:${t.port}/${t.database}`;
    case 'connectInstance': return `Connect instance ${t.instanceId}`;
  }
}

async function dryRunPlan(opts: ReloadOptions, reader: NightReader, occupied: string[]): Promise<string[]> {
  const lines = reader.datasets.map((d) => `${d.name} (${d.kind}, ${d.objects} objects, ${d.bytes} bytes) → ${describeTarget(opts.target.datasets[d.name])}`);
  for (const d of reader.datasets) {
    const t = opts.target.datasets[d.name];
    if (t.kind === 'connectInstance' && opts.applyConnect) {
      const r = await opts.applyConnect({ source: opts.source, night: reader.night, dataset: d.name, objects: nightObjects(reader, d), instanceId: t.instanceId, dryRun: true });
      lines.push(`${d.name}: would create ${r.created}, keep ${r.existing}; cannot move: ${r.cannotMove.join('; ') || 'nothing'}`);
    }
  }
  return [...lines, ...occupied.map((o) => `not empty: ${o}`)];
}

/** Runs the reload; writes the report; prints ONE `counterparty.reload` line; throws on failure after the line. */
export async function reload(opts: ReloadOptions): Promise<ReloadReport> {
  const now = opts.now ?? (() => new Date());
  const t0 = Date.now();
  const phases: ReloadReport['phases'] = [];
  const phase = async <T>(name: string, fn: () => Promise<T>): Promise<T> => {
    const s = Date.now();
    progress(`reload: ${name} …`);
    const r = await fn();
    phases.push({ phase: name, seconds: (Date.now() - s) / 1000 });
    return r;
  };
  const night = await selectNight(opts.source, opts.recordsStore ?? opts.source, opts.night);
  const reader = await phase('verify', () => verifyNightForReload(opts.source, night));
  checkTargetCoversNight(opts.target, reader.datasets);
  const journal = ReloadJournal.open(opts.stateDir, night, reader.sha256, opts.targetText, now);
  const occupied = await phase('preflight', () => occupiedTargets(opts, journal));
  if (opts.dryRun) {
    const plan = await dryRunPlan(opts, reader, occupied);
    for (const l of plan) progress(`reload (dry run): ${l}`);
    const report: ReloadReport = { result: 'dry-run', night, manifestSha256: reader.sha256, from: opts.source.url, startedAt: new Date(t0).toISOString(), phases, datasets: [], plan, rtoSeconds: 0, forced: false };
    logEvent('counterparty.reload', { result: 'success', dryRun: true, night, from: opts.source.url, plan });
    return report;
  }
  if (occupied.length && !opts.force) {
    throw new JobFailure('target-not-empty', `reload: the target is not empty (${occupied.join('; ')}); refusing to load into it. Fix: give new names in the target file, or pass --force to load into them anyway (logged).`, { night, occupied });
  }
  if (occupied.length) progress(`reload: --force: loading into targets that hold data: ${occupied.join('; ')}`);
  const datasets: DatasetOutcome[] = [];
  for (const d of reader.datasets) {
    const unit = `dataset:${d.name}`;
    if (journal.isDone(unit)) {
      // loaded and proven by an earlier run of this reload (the journal records it only when the proof passed)
      datasets.push({ name: d.name, kind: d.kind, target: describeTarget(opts.target.datasets[d.name]), loaded: { earlierRun: true }, expected: {}, proved: { inEarlierRun: true }, problems: [], seconds: 0 });
      continue;
    }
    const outcome = await phase(`load ${d.name}`, () => loadDataset(opts, reader, journal, d, opts.target.datasets[d.name]));
    datasets.push(outcome);
    if (!outcome.problems.length) journal.markDone(unit, { seconds: outcome.seconds });
  }
  const problems = datasets.flatMap((d) => d.problems.map((p) => `${d.name}: ${p}`));
  const report: ReloadReport = {
    result: problems.length ? 'failure' : 'success', night, manifestSha256: reader.sha256, from: opts.source.url, startedAt: new Date(t0).toISOString(),
    phases, datasets, rtoSeconds: (Date.now() - t0) / 1000, forced: occupied.length > 0, plan: [],
  };
  await fs.mkdir(opts.outDir, { recursive: true });
  await fs.writeFile(join(opts.outDir, 'reload-report.json'), `${JSON.stringify(report, null, 2)}\n`);
  await fs.writeFile(join(opts.outDir, 'reload-report.md'), renderReloadReport(report));
  const fields = { night, from: opts.source.url, rtoSeconds: report.rtoSeconds, forced: report.forced, datasets: datasets.map((d) => ({ name: d.name, seconds: d.seconds, problems: d.problems.length })) };
  if (problems.length) {
    throw new JobFailure('count-mismatch', `reload: the target does not match night ${night}: ${problems.slice(0, 5).map(oneLine).join('; ')}${problems.length > 5 ? ` (+${problems.length - 5} more)` : ''}`, { ...fields, problems: problems.slice(0, 20) });
  }
  logEvent('counterparty.reload', { result: 'success', ...fields });
  return report;
}
