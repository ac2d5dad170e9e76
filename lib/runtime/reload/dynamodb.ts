/**
 * Reload of a `dynamoDbTable` dataset into a NEW table. The managed path: the night's export files
 * (DynamoDB JSON, gzipped) are staged into an S3 bucket of the target account, and DynamoDB
 * `ImportTable` creates the table from them: no write capacity is consumed. Where ImportTable is
 * not available (some emulators answer UnknownOperation), a batched loader creates the table and
 * writes the items with BatchWriteItem; the SDK's adaptive retry mode paces it under throttling.
 *
 * The proof compares the loaded table with the export: item count and an order-independent digest
 * of every item (each item's canonical typed form hashed, the hashes summed mod 2^256).
 */
import { createInterface } from 'node:readline';
import { createGunzip } from 'node:zlib';
import { Readable } from 'node:stream';
import {
  BatchWriteItemCommand, CreateTableCommand, DescribeImportCommand, DescribeTableCommand, ImportTableCommand, ScanCommand,
  UpdateContinuousBackupsCommand, waitUntilTableExists, type AttributeDefinition, type AttributeValue, type DynamoDBClient, type KeySchemaElement,
} from '@aws-sdk/client-dynamodb';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { RuntimeError } from '../errors';
import type { ObjectStore } from '../stores/types';
import { readAll } from '../stores/types';
import { hexToBase64, sha256Hex, sleep } from '../util';
import type { ReloadJournal } from './journal';
import { DYNAMO_DATA_FILE_RE } from '../verifier';

/** One object of the night's export, as the manifest lists it. */
export interface NightObject { readonly key: string; readonly size: number; readonly sha256: string }

export interface TableSchema { readonly KeySchema: KeySchemaElement[]; readonly AttributeDefinitions: AttributeDefinition[] }

type Json = { [k: string]: unknown };

/** The export's data files (`…/AWSDynamoDB/<export id>/data/<name>.gz`, gzipped DynamoDB JSON), as the verifier finds them. */
export function exportDataFiles(objects: readonly NightObject[]): NightObject[] {
  return objects.filter((o) => DYNAMO_DATA_FILE_RE.test(o.key));
}

async function verifiedBytes(store: ObjectStore, o: NightObject): Promise<Buffer> {
  const bytes = await readAll(await store.get(o.key));
  if (bytes.length !== o.size || sha256Hex(bytes) !== o.sha256) throw new RuntimeError(`reload: ${store.url}/${o.key} does not match the manifest (size or sha256)`);
  return bytes;
}

/** Items of the export files, one `{ Item }` line at a time (never a whole file as one string). */
export async function* exportItems(store: ObjectStore, files: readonly NightObject[]): AsyncGenerator<Record<string, Json>> {
  for (const f of files) {
    const lines = createInterface({ input: Readable.from(await verifiedBytes(store, f)).pipe(createGunzip()), crlfDelay: Infinity });
    for await (const line of lines) {
      if (!line.trim()) continue;
      const parsed = JSON.parse(line) as { Item?: Record<string, Json> };
      if (!parsed.Item) throw new RuntimeError(`reload: ${f.key}: a line without "Item"`);
      yield parsed.Item;
    }
  }
}

/**
 * An attribute value in one canonical text form, whatever its source: the export's DynamoDB JSON
 * (`B` as base64) or the SDK (`B` as bytes). Set members are sorted: DynamoDB keeps no set order.
 */
export function canonicalAttribute(av: Json | AttributeValue): string {
  const [type, value] = Object.entries(av).find(([, v]) => v !== undefined) ?? [];
  const b64 = (v: unknown): string => (typeof v === 'string' ? v : Buffer.from(v as Uint8Array).toString('base64'));
  switch (type) {
    case 'S': case 'N': return `${type}:${JSON.stringify(value)}`;
    case 'B': return `B:${JSON.stringify(b64(value))}`;
    case 'BOOL': return `BOOL:${value ? 'true' : 'false'}`;
    case 'NULL': return 'NULL';
    case 'SS': case 'NS': return `${type}:${JSON.stringify([...(value as string[])].sort())}`;
    case 'BS': return `BS:${JSON.stringify((value as unknown[]).map(b64).sort())}`;
    case 'L': return `L:[${(value as Json[]).map(canonicalAttribute).join(',')}]`;
    case 'M': return `M:${canonicalItem(value as Record<string, Json>)}`;
    default: throw new RuntimeError(`reload: unknown DynamoDB attribute type ${JSON.stringify(type)}`);
  }
}

export function canonicalItem(item: Record<string, Json | AttributeValue>): string {
  return `{${Object.keys(item).sort().map((k) => `${JSON.stringify(k)}=${canonicalAttribute(item[k] as Json)}`).join(',')}}`;
}

/** An export attribute (DynamoDB JSON: `B` and `BS` as base64) as the SDK's AttributeValue (bytes). */
export function toAttributeValue(av: Json): AttributeValue {
  const [type, value] = Object.entries(av)[0] ?? [];
  switch (type) {
    case 'B': return { B: Buffer.from(value as string, 'base64') };
    case 'BS': return { BS: (value as string[]).map((v) => Buffer.from(v, 'base64')) };
    case 'L': return { L: (value as Json[]).map(toAttributeValue) };
    case 'M': return { M: toItem(value as Record<string, Json>) };
    default: return { [type as string]: value } as unknown as AttributeValue;
  }
}

export function toItem(item: Record<string, Json>): Record<string, AttributeValue> {
  const out: Record<string, AttributeValue> = {};
  for (const [k, v] of Object.entries(item)) out[k] = toAttributeValue(v);
  return out;
}

/** Item count and an order-independent digest (sum of item SHA-256s mod 2^256, hex). */
export async function itemsDigest(items: AsyncIterable<Record<string, Json | AttributeValue>>): Promise<{ items: number; digest: string }> {
  const mod = 1n << 256n;
  let sum = 0n;
  let n = 0;
  for await (const item of items) {
    sum = (sum + BigInt(`0x${sha256Hex(canonicalItem(item))}`)) % mod;
    n++;
  }
  return { items: n, digest: sum.toString(16).padStart(64, '0') };
}

export async function* scanTable(client: Pick<DynamoDBClient, 'send'>, tableName: string): AsyncGenerator<Record<string, AttributeValue>> {
  let start: Record<string, AttributeValue> | undefined;
  do {
    const page = await client.send(new ScanCommand({ TableName: tableName, ExclusiveStartKey: start, ConsistentRead: true }));
    for (const item of page.Items ?? []) yield item;
    start = page.LastEvaluatedKey;
  } while (start);
}

export async function tableExists(client: Pick<DynamoDBClient, 'send'>, tableName: string): Promise<boolean> {
  try {
    await client.send(new DescribeTableCommand({ TableName: tableName }));
    return true;
  } catch (err) {
    if ((err as { name?: string }).name === 'ResourceNotFoundException') return false;
    throw err;
  }
}

export interface DynamoReloadOptions {
  readonly source: ObjectStore;
  readonly night: string;
  readonly dataset: string;
  readonly objects: readonly NightObject[];
  readonly schema: TableSchema;
  readonly tableName: string;
  readonly dynamo: DynamoDBClient;
  readonly s3: S3Client;
  readonly stagingBucket: string;
  readonly journal: ReloadJournal;
  /** `import` (ImportTable only), `batch` (loader only) or `auto` (ImportTable, else the loader). @default 'auto' */
  readonly mode?: 'import' | 'batch' | 'auto';
  /** @default 2000 */
  readonly pollMs?: number;
}

export interface DynamoReloadResult { readonly table: string; readonly method: 'ImportTable' | 'BatchWriteItem'; readonly items: number; readonly seconds: number }

function unsupported(err: unknown): boolean {
  const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
  return e.name === 'UnknownOperationException' || e.name === 'NotImplementedError' || e.$metadata?.httpStatusCode === 501;
}

async function stageExport(opts: DynamoReloadOptions, files: readonly NightObject[]): Promise<string> {
  const prefix = `reload/${opts.night}/${opts.dataset}/`;
  for (const f of files) {
    const bytes = await verifiedBytes(opts.source, f);
    await opts.s3.send(new PutObjectCommand({ Bucket: opts.stagingBucket, Key: `${prefix}${f.key.split('/').pop()}`, Body: bytes, ChecksumAlgorithm: 'SHA256', ChecksumSHA256: hexToBase64(f.sha256) }));
  }
  return prefix;
}

async function importTable(opts: DynamoReloadOptions, files: readonly NightObject[]): Promise<number> {
  const unit = `dynamodb-import:${opts.dataset}`;
  let arn = opts.journal.note(unit)?.importArn as string | undefined;
  if (!arn) {
    const prefix = await stageExport(opts, files);
    const out = await opts.dynamo.send(new ImportTableCommand({
      ClientToken: sha256Hex(`${opts.night}/${opts.dataset}/${opts.tableName}`).slice(0, 36),
      S3BucketSource: { S3Bucket: opts.stagingBucket, S3KeyPrefix: prefix },
      InputFormat: 'DYNAMODB_JSON',
      InputCompressionType: 'GZIP',
      TableCreationParameters: { TableName: opts.tableName, KeySchema: opts.schema.KeySchema, AttributeDefinitions: opts.schema.AttributeDefinitions, BillingMode: 'PAY_PER_REQUEST' },
    }));
    arn = out.ImportTableDescription?.ImportArn;
    if (!arn) throw new RuntimeError(`reload: ImportTable for ${opts.tableName} returned no ImportArn`);
    opts.journal.markOwned(`dynamodb:${opts.tableName}`);
    opts.journal.setNote(unit, { importArn: arn });
  }
  for (;;) {
    const d = (await opts.dynamo.send(new DescribeImportCommand({ ImportArn: arn }))).ImportTableDescription;
    if (d?.ImportStatus === 'COMPLETED') return Number(d.ImportedItemCount ?? 0);
    if (d?.ImportStatus === 'FAILED' || d?.ImportStatus === 'CANCELLED') {
      throw new RuntimeError(`reload: ImportTable ${arn} into ${opts.tableName} ${d.ImportStatus}: ${d.FailureCode ?? ''} ${d.FailureMessage ?? ''} (${d.ErrorCount ?? 0} items failed; see CloudWatch Logs for the import)`.trim());
    }
    await sleep(opts.pollMs ?? 2000);
  }
}

async function batchLoad(opts: DynamoReloadOptions, files: readonly NightObject[]): Promise<number> {
  if (!opts.journal.owns(`dynamodb:${opts.tableName}`)) {
    await opts.dynamo.send(new CreateTableCommand({ TableName: opts.tableName, KeySchema: opts.schema.KeySchema, AttributeDefinitions: opts.schema.AttributeDefinitions, BillingMode: 'PAY_PER_REQUEST' }));
    opts.journal.markOwned(`dynamodb:${opts.tableName}`);
  }
  await waitUntilTableExists({ client: opts.dynamo, maxWaitTime: 300 }, { TableName: opts.tableName });
  let items = 0;
  let batch: Record<string, AttributeValue>[] = [];
  const flush = async (): Promise<void> => {
    let requests = batch.map((Item) => ({ PutRequest: { Item } }));
    for (let attempt = 0; requests.length; attempt++) {
      const out = await opts.dynamo.send(new BatchWriteItemCommand({ RequestItems: { [opts.tableName]: requests } }));
      requests = (out.UnprocessedItems?.[opts.tableName] ?? []) as typeof requests;
      if (requests.length) await sleep(Math.min(50 * 2 ** attempt, 5000)); // unprocessed items are not errors, so the SDK does not retry them
    }
    items += batch.length;
    batch = [];
  };
  for await (const item of exportItems(opts.source, files)) {
    batch.push(toItem(item));
    if (batch.length === 25) await flush();
  }
  if (batch.length) await flush();
  return items;
}

/** Point-in-time recovery on the new table: the rebuilt primary's next nightly export needs it. */
async function enablePitr(opts: DynamoReloadOptions): Promise<void> {
  await waitUntilTableExists({ client: opts.dynamo, maxWaitTime: 300 }, { TableName: opts.tableName });
  await opts.dynamo.send(new UpdateContinuousBackupsCommand({ TableName: opts.tableName, PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true } }));
}

/** Loads the night's export into a new table (the target table must not exist unless this reload made it), then turns PITR on. */
export async function reloadDynamoTable(opts: DynamoReloadOptions): Promise<DynamoReloadResult> {
  const t0 = Date.now();
  const files = exportDataFiles(opts.objects);
  const mode = opts.mode ?? 'auto';
  let loaded: { method: DynamoReloadResult['method']; items: number } | undefined;
  if (mode !== 'batch') {
    try {
      loaded = { method: 'ImportTable', items: await importTable(opts, files) };
    } catch (err) {
      if (mode === 'import' || !unsupported(err)) throw err;
    }
  }
  loaded ??= { method: 'BatchWriteItem', items: await batchLoad(opts, files) };
  await enablePitr(opts);
  return { table: opts.tableName, ...loaded, seconds: (Date.now() - t0) / 1000 };
}

/** Count and digest of the loaded table against the export; returns the problems. */
export async function proveDynamoTable(source: ObjectStore, objects: readonly NightObject[], client: Pick<DynamoDBClient, 'send'>, tableName: string): Promise<{ items: number; digest: string; problems: string[] }> {
  const files = exportDataFiles(objects);
  // An export always has data files (empty ones for an empty table): none found means the night was misread.
  if (!files.length) return { items: 0, digest: '', problems: [`${tableName}: the night lists no DynamoDB export data file (…/AWSDynamoDB/<id>/data/*.gz) among its ${objects.length} files`] };
  const want = await itemsDigest(exportItems(source, files));
  const got = await itemsDigest(scanTable(client, tableName));
  const problems: string[] = [];
  if (got.items !== want.items) problems.push(`${tableName}: ${got.items} items, the night has ${want.items}`);
  else if (got.digest !== want.digest) problems.push(`${tableName}: item digest ${got.digest}, the night's is ${want.digest} (same count, different items)`);
  return { items: got.items, digest: got.digest, problems };
}
