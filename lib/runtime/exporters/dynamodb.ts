/**
 * DynamoDB export starter and waiter: `ExportTableToPointInTime` (DynamoDB JSON, gzipped) into
 * `nights/<night>/<dataset>/AWSDynamoDB/<export id>/`, then polls `DescribeExport` until it
 * completes. Writes `table.json` (the table's key schema) beside it so the restorer knows the key
 * columns. Full exports every night (see docs/runtime.md for why not INCREMENTAL_EXPORT).
 */
import { DescribeExportCommand, DescribeTableCommand, ExportTableToPointInTimeCommand, type DynamoDBClient, type ExportDescription, type TableDescription } from '@aws-sdk/client-dynamodb';
import { RuntimeError } from '../errors';
import type { ObjectStore } from '../stores/types';
import { canonicalJson, sleep } from '../util';

export interface DynamoExportOptions {
  readonly client: Pick<DynamoDBClient, 'send'>;
  readonly tableName: string;
  readonly bucket: string;
  /** `naming.datasetNightPrefix(night, dataset)` (trailing `/` is dropped for S3Prefix). */
  readonly prefix: string;
  /** The export bucket as a store, to write `table.json`. */
  readonly store?: ObjectStore;
  /** Start of a point-in-time (defaults to now, i.e. the latest restorable time). */
  readonly exportTime?: Date;
  /** @default 5000 */
  readonly pollMs?: number;
  /** @default 2 h */
  readonly timeoutMs?: number;
  readonly sleep?: (ms: number) => Promise<void>;
}

export interface DynamoExportResult {
  readonly exportArn: string;
  readonly status: string;
  readonly itemCount: number;
  readonly billedSizeBytes: number;
  readonly exportManifest?: string;
}

export async function startDynamoDbExport(client: DynamoExportOptions['client'], tableArn: string, bucket: string, prefix: string, exportTime?: Date): Promise<string> {
  const out = await client.send(new ExportTableToPointInTimeCommand({
    TableArn: tableArn,
    S3Bucket: bucket,
    S3Prefix: prefix.replace(/\/+$/, ''),
    ExportFormat: 'DYNAMODB_JSON',
    ExportType: 'FULL_EXPORT',
    ...(exportTime ? { ExportTime: exportTime } : {}),
  }));
  const arn = out.ExportDescription?.ExportArn;
  if (!arn) throw new RuntimeError(`ExportTableToPointInTime for ${tableArn} returned no ExportArn`);
  return arn;
}

export async function waitForDynamoDbExport(client: DynamoExportOptions['client'], exportArn: string, opts: { pollMs?: number; timeoutMs?: number; sleep?: (ms: number) => Promise<void> } = {}): Promise<ExportDescription> {
  const deadline = Date.now() + (opts.timeoutMs ?? 2 * 3600_000);
  for (;;) {
    const d = (await client.send(new DescribeExportCommand({ ExportArn: exportArn }))).ExportDescription;
    const status = d?.ExportStatus;
    if (status === 'COMPLETED') return d!;
    if (status === 'FAILED') throw new RuntimeError(`DynamoDB export ${exportArn} failed: ${d?.FailureCode ?? ''} ${d?.FailureMessage ?? ''}`.trim());
    if (Date.now() > deadline) throw new RuntimeError(`DynamoDB export ${exportArn} still ${status} after ${(opts.timeoutMs ?? 0) / 1000} s`);
    await (opts.sleep ?? sleep)(opts.pollMs ?? 5000);
  }
}

/**
 * Describes the table and writes its key schema to `<prefix>table.json` (`naming.dynamoDbTableSchemaKey`),
 * which the restorer reads for the key columns. Returns the description.
 */
export async function writeTableSchema(client: DynamoExportOptions['client'], store: ObjectStore, tableName: string, prefix: string): Promise<TableDescription> {
  const table = (await client.send(new DescribeTableCommand({ TableName: tableName }))).Table;
  if (!table?.TableArn) throw new RuntimeError(`DynamoDB table ${tableName} not found`);
  const keyNames = new Set((table.KeySchema ?? []).map((k) => k.AttributeName));
  await store.put(`${prefix.endsWith('/') ? prefix : `${prefix}/`}table.json`, `${canonicalJson({
    TableName: table.TableName,
    KeySchema: table.KeySchema,
    AttributeDefinitions: (table.AttributeDefinitions ?? []).filter((a) => keyNames.has(a.AttributeName)),
  })}\n`, { contentType: 'application/json' });
  return table;
}

/** Describes the table, writes `<prefix>table.json`, starts the export and waits for it. */
export async function exportDynamoDbTable(opts: DynamoExportOptions): Promise<DynamoExportResult> {
  const prefix = opts.prefix.endsWith('/') ? opts.prefix : `${opts.prefix}/`;
  const table = opts.store
    ? await writeTableSchema(opts.client, opts.store, opts.tableName, prefix)
    : (await opts.client.send(new DescribeTableCommand({ TableName: opts.tableName }))).Table;
  if (!table?.TableArn) throw new RuntimeError(`DynamoDB table ${opts.tableName} not found`);
  const exportArn = await startDynamoDbExport(opts.client, table.TableArn, opts.bucket, prefix, opts.exportTime);
  const d = await waitForDynamoDbExport(opts.client, exportArn, opts);
  const itemCount = Number(d.ItemCount ?? 0);
  // The item count the export reports, beside it: the counterparty checks the data files against it
  // (AWS also writes AWSDynamoDB/<id>/manifest-summary.json with itemCount; emulators may not).
  if (opts.store) await opts.store.put(`${prefix}export-summary.json`, `${canonicalJson({ exportArn, itemCount, status: d.ExportStatus ?? 'COMPLETED' })}\n`, { contentType: 'application/json' });
  return { exportArn, status: d.ExportStatus ?? 'COMPLETED', itemCount, billedSizeBytes: Number(d.BilledSizeBytes ?? 0), exportManifest: d.ExportManifest };
}
