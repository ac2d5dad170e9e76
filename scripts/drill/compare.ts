/**
 * Standby against primary: row counts and per-table checksums, item counts and digests, object hashes.
 * DynamoDB is compared WITHOUT the restorer's own decoding (lib/runtime/dynamodb-json.ts): the items
 * the drill wrote are decoded by the AWS SDK (`unmarshall`) and by this file's typed canonical form,
 * and compared with the standby's `item` (plain JSON) and `item_typed` (DynamoDB JSON) columns. A
 * mapping bug in the restorer shows as a digest difference.
 */
import { createHash } from 'node:crypto';
import { ScanCommand, type DynamoDBClient, type AttributeValue } from '@aws-sdk/client-dynamodb';
import { unmarshall, type NativeAttributeValue } from '@aws-sdk/util-dynamodb';
import { Client } from 'pg';

type Pg = { host: string; port: number; user: string };

export interface TableDigest { readonly rows: number; readonly md5: string }

export async function pgDigests(pg: Pg, database: string): Promise<Record<string, TableDigest>> {
  const c = new Client({ ...pg, database });
  await c.connect();
  try {
    const tables = (await c.query(`SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename`)).rows.map((r) => r.tablename as string);
    const out: Record<string, TableDigest> = {};
    for (const t of tables) {
      const r = await c.query(`SELECT count(*) AS n, coalesce(md5(string_agg(x::text, E'\\n' ORDER BY x::text)), '') AS h FROM public."${t}" x`);
      out[t] = { rows: Number(r.rows[0].n), md5: r.rows[0].h };
    }
    return out;
  } finally {
    await c.end();
  }
}

function digestItems(pairs: [string, string][]): string {
  pairs.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  const h = createHash('sha256');
  for (const [k, v] of pairs) h.update(`${k}\t${v}\n`);
  return h.digest('hex');
}

/** Sorted-key JSON (this file's own; not the runtime's canonicalJson). */
function sortedJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(sortedJson).join(',')}]`;
  if (v && typeof v === 'object') return `{${Object.keys(v).sort().map((k) => `${JSON.stringify(k)}:${sortedJson((v as Record<string, unknown>)[k])}`).join(',')}}`;
  return JSON.stringify(v);
}

/** A DynamoDB number as DynamoDB itself stores it: no leading +, no trailing fraction zeros, -0 is 0. */
function normalNumber(n: unknown): string {
  let t = String(n).trim().replace(/^\+/, '');
  const m = /^(-?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/.exec(t);
  if (!m) return t;
  const int = m[2].replace(/^0+(?=\d)/, '') || '0';
  const frac = (m[3] ?? '').replace(/0+$/, '');
  t = `${int}${frac ? `.${frac}` : ''}${m[4] ? `e${Number(m[4])}` : ''}`;
  return m[1] && t !== '0' ? `-${t}` : t;
}

/** A typed DynamoDB value in one canonical form: sets sorted (DynamoDB sets have no order), binary as base64, numbers as their digits. */
function typedCanonical(av: Record<string, unknown>): unknown {
  const [type, value] = Object.entries(av)[0];
  const b64 = (x: unknown): string => (typeof x === 'string' ? x : Buffer.from(x as Uint8Array).toString('base64'));
  switch (type) {
    case 'B': return { B: b64(value) };
    case 'BS': return { BS: (value as unknown[]).map(b64).sort() };
    case 'SS': return { SS: [...(value as string[])].map(String).sort() };
    case 'NS': return { NS: [...(value as string[])].map(normalNumber).sort() };
    case 'N': return { N: normalNumber(value) };
    case 'L': return { L: (value as Record<string, unknown>[]).map(typedCanonical) };
    case 'M': return { M: Object.fromEntries(Object.entries(value as Record<string, Record<string, unknown>>).map(([k, x]) => [k, typedCanonical(x)])) };
    default: return { [type]: value };
  }
}

/** The plain-JSON form an application reads, derived by the AWS SDK's own unmarshall (sets as sorted arrays). */
function plainFromSdk(v: NativeAttributeValue): unknown {
  if (v instanceof Set) return [...v].map(plainFromSdk).sort((a, b) => (sortedJson(a) < sortedJson(b) ? -1 : 1));
  if (v instanceof Uint8Array) return Buffer.from(v).toString('base64');
  if (Array.isArray(v)) return v.map(plainFromSdk);
  if (v && typeof v === 'object' && 'value' in v && Object.keys(v).length === 1) return Number((v as { value: string }).value); // NumberValue
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, plainFromSdk(x as NativeAttributeValue)]));
  return v;
}

/** The standby's plain JSON with arrays that were sets (per the typed column) sorted the same way. */
function plainFromStandby(plain: unknown, typed: Record<string, unknown>): unknown {
  const [type, value] = Object.entries(typed)[0];
  if (type === 'SS' || type === 'NS' || type === 'BS') return [...(plain as unknown[])].sort((a, b) => (sortedJson(a) < sortedJson(b) ? -1 : 1));
  if (type === 'L') return (plain as unknown[]).map((p, i) => plainFromStandby(p, (value as Record<string, unknown>[])[i]));
  if (type === 'M') return Object.fromEntries(Object.entries(plain as Record<string, unknown>).map(([k, p]) => [k, plainFromStandby(p, (value as Record<string, Record<string, unknown>>)[k])]));
  return plain;
}

export interface DynamoDigest {
  readonly items: number;
  /** Over every item's typed value (S/N/B/... as DynamoDB holds it; sets sorted). */
  readonly typed: string;
  /** Over every item's plain JSON (what an application reads). */
  readonly plain: string;
  /** = typed (the strictest): kept for callers that compare one digest. */
  readonly sha256: string;
}

function digestOf(rows: { key: string; typed: Record<string, Record<string, unknown>>; plain: unknown }[]): DynamoDigest {
  const typed = digestItems(rows.map((r) => [r.key, sortedJson(Object.fromEntries(Object.entries(r.typed).map(([k, v]) => [k, typedCanonical(v)])))]));
  return {
    items: rows.length,
    typed,
    sha256: typed,
    plain: digestItems(rows.map((r) => [r.key, sortedJson(r.plain)])),
  };
}

function primaryRow(item: Record<string, AttributeValue>, key: string): { key: string; typed: Record<string, Record<string, unknown>>; plain: unknown } {
  return { key: String(item[key].S ?? item[key].N), typed: item as unknown as Record<string, Record<string, unknown>>, plain: plainFromSdk(unmarshall(item, { wrapNumbers: true })) };
}

/** Items of a DynamoDB table (scan), decoded by the SDK. */
export async function dynamoDigest(ddb: DynamoDBClient, table: string, key: string): Promise<DynamoDigest> {
  const rows: ReturnType<typeof primaryRow>[] = [];
  let start: Record<string, AttributeValue> | undefined;
  do {
    const page = await ddb.send(new ScanCommand({ TableName: table, ExclusiveStartKey: start }));
    for (const item of page.Items ?? []) rows.push(primaryRow(item, key));
    start = page.LastEvaluatedKey;
  } while (start);
  return digestOf(rows);
}

/** The same digest over items held in memory (what the drill wrote to the primary table). */
export function modelDigest(items: Map<string, Record<string, AttributeValue>>, key: string): DynamoDigest {
  return digestOf([...items.values()].map((item) => primaryRow(item, key)));
}

/** The standby's `counterparty.<table>` rows: `item_typed` as stored, `item` normalised only for set order. */
export async function standbyDynamoDigest(pg: Pg, database: string, table: string, key: string): Promise<DynamoDigest> {
  const c = new Client({ ...pg, database });
  await c.connect();
  try {
    const r = await c.query(`SELECT "${key}"::text AS k, item::text AS item, item_typed::text AS typed FROM counterparty."${table}"`);
    return digestOf(r.rows.map((row) => {
      const typed = JSON.parse(row.typed as string) as Record<string, Record<string, unknown>>;
      const plain = JSON.parse(row.item as string) as Record<string, unknown>;
      return { key: row.k as string, typed, plain: Object.fromEntries(Object.entries(plain).map(([k, v]) => [k, plainFromStandby(v, typed[k])])) };
    }));
  } finally {
    await c.end();
  }
}

export async function standbyObjects(pg: Pg, database: string, dataset: string): Promise<Map<string, { size: number; sha256: string; location: string }>> {
  const c = new Client({ ...pg, database });
  await c.connect();
  try {
    const r = await c.query('SELECT key, size, sha256, location FROM counterparty.objects WHERE dataset = $1', [dataset]);
    return new Map(r.rows.map((row) => [row.key as string, { size: Number(row.size), sha256: row.sha256 as string, location: row.location as string }]));
  } finally {
    await c.end();
  }
}
