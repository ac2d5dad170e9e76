/** Standby against primary: row counts and per-table checksums, item counts and digests, object hashes. */
import { createHash } from 'node:crypto';
import { ScanCommand, type DynamoDBClient, type AttributeValue } from '@aws-sdk/client-dynamodb';
import { Client } from 'pg';
import { itemToJsonText } from '../../lib/runtime/dynamodb-json';
import { canonicalJson } from '../../lib/runtime/util';

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

/** Items of a DynamoDB table (scan), as canonical JSON per key. */
export async function dynamoDigest(ddb: DynamoDBClient, table: string, key: string): Promise<{ items: number; sha256: string }> {
  const pairs: [string, string][] = [];
  let start: Record<string, AttributeValue> | undefined;
  do {
    const page = await ddb.send(new ScanCommand({ TableName: table, ExclusiveStartKey: start }));
    for (const item of page.Items ?? []) pairs.push([String(item[key].S ?? item[key].N), canonicalJson(JSON.parse(itemToJsonText(item as never)), 0)]);
    start = page.LastEvaluatedKey;
  } while (start);
  return { items: pairs.length, sha256: digestItems(pairs) };
}

/** The same digest over items held in memory (what the drill wrote to the primary table). */
export function modelDigest(items: Map<string, Record<string, AttributeValue>>, key: string): { items: number; sha256: string } {
  const pairs: [string, string][] = [...items.values()].map((item) => [String(item[key].S ?? item[key].N), canonicalJson(JSON.parse(itemToJsonText(item as never)), 0)]);
  return { items: pairs.length, sha256: digestItems(pairs) };
}

/** The standby's `counterparty.<table>` rows, canonicalised the same way. */
export async function standbyDynamoDigest(pg: Pg, database: string, table: string, key: string): Promise<{ items: number; sha256: string }> {
  const c = new Client({ ...pg, database });
  await c.connect();
  try {
    const r = await c.query(`SELECT "${key}"::text AS k, item::text AS item FROM counterparty."${table}"`);
    const pairs: [string, string][] = r.rows.map((row) => [row.k as string, canonicalJson(JSON.parse(row.item as string), 0)]);
    return { items: pairs.length, sha256: digestItems(pairs) };
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
